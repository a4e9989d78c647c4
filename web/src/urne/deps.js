// The only place where urne's browser code names its third-party modules: @noble/curves for
// ristretto255 (RFC 9496) and @noble/hashes for SHA-512 and the system's random generator. Both
// are audited, have no dependencies of their own, and are pinned in web/package.json.
//
// Node resolves these bare specifiers from web/node_modules. A browser resolves them through an
// import map that the page serving the booth declares, e.g.
//   <script type="importmap">{"imports": {"@noble/curves/": "/static/noble-curves/",
//                                          "@noble/hashes/": "/static/noble-hashes/"}}</script>
// so that no file below needs a bundler.

export { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
export { sha512 } from '@noble/hashes/sha2.js';
export { randomBytes } from '@noble/hashes/utils.js';
