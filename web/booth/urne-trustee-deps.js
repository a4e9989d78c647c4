// The browser's copy of web/src/urne/trustee-deps.js: `urne serve` serves this file at
// /static/src/urne/trustee-deps.js in place of that one (as urne-deps.js for deps.js), naming the
// vendored copies of the same pinned packages relative to that address.

export { argon2idAsync } from '../../vendor/@noble/hashes/argon2.js';
export { chacha20poly1305 } from '../../vendor/@noble/ciphers/chacha.js';
