// Secret files (`urne/secret/v1`): a trustee's keys at rest, encrypted with a passphrase, in the
// format of `urne trustee` (crates/urne-cli/src/vault.rs), so that a file sealed in the browser
// opens with the command-line tool and the other way round.
//
// The passphrase (its UTF-8 bytes) goes through argon2id, version 0x13 (RFC 9106), with a fresh
// 16-byte salt to a 32-byte key, which seals the secret with ChaCha20-Poly1305 (RFC 8439) under a
// fresh 12-byte nonce. The associated data is the text
//
//   "urne/secret/v1\n<purpose>\nargon2id\n<memory_kib>\n<iterations>\n<parallelism>\n<salt>"
//
// (the salt in base64url), so neither the costs nor the purpose can be changed without the tag
// failing. The file is JSON:
//   {"format": "urne/secret/v1", "purpose": …, "kdf": {"algorithm": "argon2id", "memory_kib": …,
//    "iterations": …, "parallelism": …, "salt": …}, "nonce": …, "ciphertext": …}
// with bytes in base64url without padding, written with two-space indentation as the CLI writes
// it. Without the passphrase it shows nothing but its purpose.

import { randomBytes } from './deps.js';
import { argon2idAsync, chacha20poly1305 } from './trustee-deps.js';
import { fromBase64Url, toBase64Url } from './encoding.js';
import { UrneError } from './errors.js';
import { object, parseStrictJson, string, unsigned } from './json.js';

/** The format of secret files. */
export const SECRET_FORMAT = 'urne/secret/v1';

/**
 * What a secret file holds: the `purpose` strings of `urne trustee` (crates/urne-cli/src/trustee.rs).
 * - `identity`: the identity key x (32 bytes, a canonical non-zero scalar; spec §8.1, §8.5.1);
 * - `polynomial`: the dealer's coefficients a_0 … a_{t−1}, 32 bytes each (spec §8.5.2);
 * - `share`: the trustee's index (4 bytes, big-endian) and its share s_j (32 bytes) (spec §8.5.7).
 */
export const SECRET_PURPOSE = Object.freeze({
  identity: 'urne trustee key',
  polynomial: 'urne trustee polynomial',
  share: 'urne trustee share',
});

/**
 * The CLI's default argon2id costs: 64 MiB, 3 passes, 1 lane (RFC 9106 §4, second recommended
 * option). Argon2id in JavaScript takes seconds with these; tests pass lighter costs, which the
 * file records.
 */
export const DEFAULT_KDF = Object.freeze({ memory_kib: 64 * 1024, iterations: 3, parallelism: 1 });

// The largest costs the CLI accepts in a file it reads: a file cannot make the reader allocate
// without bound.
const MAX_MEMORY_KIB = 4 * 1024 * 1024;
const MAX_ITERATIONS = 100;
const MAX_PARALLELISM = 64;

const utf8 = new TextEncoder();
const u32 = unsigned(32);

function formatError(msg, path = '.') {
  return new UrneError('format', msg, { path });
}

/** Checks argon2id costs as the CLI does (its limits, then those of RFC 9106 §3.1). */
function checkKdf(kdf) {
  const { memory_kib: m, iterations: t, parallelism: p } = kdf;
  for (const [name, v] of Object.entries({ memory_kib: m, iterations: t, parallelism: p })) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw formatError('not a u32', `kdf.${name}`);
  }
  if (m > MAX_MEMORY_KIB || t > MAX_ITERATIONS || p > MAX_PARALLELISM) {
    throw formatError('key-derivation costs beyond what this tool accepts', 'kdf');
  }
  if (p < 1 || t < 1 || m < 8 * p) {
    throw formatError('key-derivation parameters: at least 1 pass, 1 lane and 8 KiB per lane', 'kdf');
  }
}

function associatedData(purpose, kdf) {
  return utf8.encode(
    `${SECRET_FORMAT}\n${purpose}\nargon2id\n${kdf.memory_kib}\n${kdf.iterations}\n${kdf.parallelism}\n${toBase64Url(kdf.salt)}`,
  );
}

async function deriveKey(passphrase, kdf) {
  const pw = utf8.encode(passphrase);
  try {
    return await argon2idAsync(pw, kdf.salt, {
      t: kdf.iterations,
      m: kdf.memory_kib,
      p: kdf.parallelism,
      dkLen: 32,
      // The default limit is below the CLI's 4 GiB; checkKdf bounds the costs instead.
      maxmem: 2 ** 32 - 1,
    });
  } finally {
    pw.fill(0);
  }
}

/**
 * Encrypts `bytes` for `purpose` with `passphrase` (a non-empty string) and returns the JSON text
 * of a `urne/secret/v1` file, which `urne trustee` reads (the CLI's `vault::write`, without the
 * file system). `kdf` gives the argon2id costs `{memory_kib, iterations, parallelism}`;
 * DEFAULT_KDF is the CLI's. Throws UrneError `passphrase` for an empty passphrase and `format` for
 * costs the CLI would refuse to read. Spec: none (a local file); see crates/urne-cli/src/vault.rs.
 *
 * @param {string} purpose
 * @param {Uint8Array} bytes
 * @param {string} passphrase
 * @param {{memory_kib: number, iterations: number, parallelism: number}} [kdf]
 * @returns {Promise<string>}
 */
export async function sealSecret(purpose, bytes, passphrase, kdf = DEFAULT_KDF) {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new UrneError('passphrase', 'the passphrase must not be empty');
  }
  if (typeof purpose !== 'string') throw new TypeError('purpose must be a string');
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const params = {
    algorithm: 'argon2id',
    memory_kib: kdf.memory_kib,
    iterations: kdf.iterations,
    parallelism: kdf.parallelism,
    salt: randomBytes(16),
  };
  checkKdf(params);
  const key = await deriveKey(passphrase, params);
  const nonce = randomBytes(12);
  let sealed;
  try {
    sealed = chacha20poly1305(key, nonce, associatedData(purpose, params)).encrypt(bytes);
  } finally {
    key.fill(0);
  }
  const doc = {
    format: SECRET_FORMAT,
    purpose,
    kdf: { ...params, salt: toBase64Url(params.salt) },
    nonce: toBase64Url(nonce),
    ciphertext: toBase64Url(sealed),
  };
  return JSON.stringify(doc, null, 2);
}

/** Parses a secret file's text, refusing unknown fields and any other format (kind `format`). */
function parseSecretFile(fileText) {
  try {
    const value = parseStrictJson(fileText, 'format');
    return object(value, '', {
      format: [string, true],
      purpose: [string, true],
      kdf: [
        (v, p) =>
          object(v, p, {
            algorithm: [string, true],
            memory_kib: [u32, true],
            iterations: [u32, true],
            parallelism: [u32, true],
            salt: [(s) => fromBase64Url(s, 16), true],
          }),
        true,
      ],
      nonce: [(s) => fromBase64Url(s, 12), true],
      ciphertext: [string, true],
    });
  } catch (e) {
    if (e instanceof UrneError && e.kind === 'format') throw e;
    if (e instanceof UrneError) throw new UrneError('format', `not a secret file: ${e.message}`, { path: e.path, cause: e });
    throw e;
  }
}

/**
 * Opens the JSON text of a `urne/secret/v1` file (from `sealSecret` or from `urne trustee`) that
 * must hold a secret for `purpose`, and returns its bytes (the caller zeroes them with
 * `.fill(0)` when done). Checks in the CLI's order (`vault::read`): the file's shape and format,
 * then its purpose, then the costs, then the tag. Throws UrneError `format` (not a secret file of
 * this version, or costs beyond the CLI's limits), `purpose` (a secret for another purpose) or
 * `passphrase` (wrong passphrase, or the file was altered).
 *
 * @param {string} fileText
 * @param {string} purpose
 * @param {string} passphrase
 * @returns {Promise<Uint8Array>}
 */
export async function openSecret(fileText, purpose, passphrase) {
  const doc = parseSecretFile(fileText);
  if (doc.format !== SECRET_FORMAT) throw formatError(`unknown format \`${doc.format}\``, 'format');
  if (doc.purpose !== purpose) {
    throw new UrneError('purpose', `the file holds a ${doc.purpose}, not a ${purpose}`, { path: 'purpose' });
  }
  let sealed;
  try {
    sealed = fromBase64Url(doc.ciphertext);
  } catch (e) {
    throw new UrneError('format', `ciphertext: ${e.message}`, { path: 'ciphertext', cause: e });
  }
  if (doc.kdf.algorithm !== 'argon2id') {
    throw formatError(`unknown key derivation \`${doc.kdf.algorithm}\``, 'kdf.algorithm');
  }
  checkKdf(doc.kdf);
  if (typeof passphrase !== 'string') throw new TypeError('passphrase must be a string');
  const key = await deriveKey(passphrase, doc.kdf);
  try {
    return chacha20poly1305(key, doc.nonce, associatedData(doc.purpose, doc.kdf)).decrypt(sealed);
  } catch {
    throw new UrneError('passphrase', 'wrong passphrase, or the file was altered');
  } finally {
    key.fill(0);
  }
}
