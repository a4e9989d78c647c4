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
// The trustee's steps are in trustee-index.js, so that the booth and the public pages do not load
// them (nor argon2id and ChaCha20-Poly1305, which only the trustees' secret files and shares use).
