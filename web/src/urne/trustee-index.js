// urne's protocol core for the trustees' pages: everything of index.js, and the trustee's steps
// (spec §8.1, §8.3, §8.5, §8.8): secret files (vault.js), the key ceremony (dkg.js), the API the
// trustee page calls (trustee.js) and the mix phase's shuffles and decryption (mix.js). Only these
// modules import trustee-deps.js.

export * from './index.js';
export * from './vault.js';
export * from './dkg.js';
export * from './trustee.js';
export * from './mix.js';
