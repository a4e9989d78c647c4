// The third-party modules that only the trustee's steps use (vault.js, dkg.js), apart from
// deps.js so that the booth never loads them: argon2id (RFC 9106) from @noble/hashes for secret
// files, and ChaCha20-Poly1305 (RFC 8439) from @noble/ciphers for secret files and shares in
// transit. Pinned in web/package.json; the browser gets web/booth/urne-trustee-deps.js instead.

export { argon2idAsync } from '@noble/hashes/argon2.js';
export { chacha20poly1305 } from '@noble/ciphers/chacha.js';
