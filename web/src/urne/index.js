// urne's protocol core for the browser booth (docs/spec.md, version 1), in plain ES modules that a
// browser loads as they are and Node runs: encodings, hashing, credentials, the manifest, ElGamal
// and proofs, ballots. See docs/booth.md.

export * from './errors.js';
export * from './encoding.js';
export * from './hash.js';
export * from './random.js';
export { parseStrictJson, JsonNonInteger } from './json.js';
export * from './credential.js';
export * from './manifest.js';
export * from './proofs.js';
export * from './ballot.js';
export * from './board.js';
// The trustee's steps (spec §8.1, §8.3, §8.5): secret files, the ceremony, decryption factors.
export * from './vault.js';
export * from './dkg.js';
export * from './trustee.js';
