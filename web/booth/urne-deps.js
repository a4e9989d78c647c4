// The browser's copy of web/src/urne/deps.js: `urne serve` serves this file at
// /static/src/urne/deps.js in place of that one, so that the protocol modules load as they are in
// the page and in the booth's worker (a module worker has no import map). It names the vendored
// copies of the same pinned packages (web/tools/vendor.js), relative to that address.

export { ristretto255, ristretto255_hasher } from '../../vendor/@noble/curves/ed25519.js';
export { sha512 } from '../../vendor/@noble/hashes/sha2.js';
export { randomBytes } from '../../vendor/@noble/hashes/utils.js';
