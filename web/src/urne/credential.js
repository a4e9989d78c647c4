// Voter credentials (spec §5): a 30-character string of Crockford's base 32, 26 data characters
// and a 4-character checksum, read forgivingly from what the voter typed; the election's signing
// key x = Hc(CREDENTIAL_KEY; id, data) and the public credential X = x·G.

import { G, encodePoint, mulSecret } from './encoding.js';
import { UrneError } from './errors.js';
import { randomBytes } from './deps.js';
import { ItemHasher, TAGS } from './hash.js';

/** The 32 characters, in value order (Crockford's base 32 without I, L, O, U). */
export const CREDENTIAL_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const DATA_LEN = 26;
const LEN = 30;
const ascii = new TextEncoder();

/** The 4 checksum characters of 26 data characters (spec §5.1). */
export function credentialChecksum(data) {
  const d = new ItemHasher(TAGS.CREDENTIAL_CHECKSUM).bytes(ascii.encode(data)).digest();
  const b = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
  return [15, 10, 5, 0].map((shift) => CREDENTIAL_ALPHABET[(b >> shift) & 31]).join('');
}

/**
 * Reads a credential as typed (spec §5.1): `-` and space are ignored, lower case is upper case,
 * O reads as 0 and I, L as 1. Returns the 30 canonical characters. Throws `bad_character` (with
 * `position`, from 1, separators not counted) for any other character, then `wrong_length` (with
 * `found`) unless 30 remain, then `checksum` if the last 4 are not the checksum of the first 26.
 */
export function parseCredential(text) {
  let out = '';
  let position = 0;
  for (const ch of String(text)) {
    if (ch === '-' || ch === ' ') continue;
    position++;
    let c = ch.toUpperCase();
    if (c === 'O') c = '0';
    else if (c === 'I' || c === 'L') c = '1';
    if (c.length !== 1 || !CREDENTIAL_ALPHABET.includes(c)) {
      throw new UrneError('bad_character', `character ${position} is not a credential character`, {
        position,
      });
    }
    out += c;
  }
  if (out.length !== LEN) {
    throw new UrneError('wrong_length', `${out.length} characters where a credential has ${LEN}`, {
      found: out.length,
    });
  }
  if (credentialChecksum(out.slice(0, DATA_LEN)) !== out.slice(DATA_LEN)) {
    throw new UrneError('checksum', 'the credential was mistyped (its checksum does not match)');
  }
  return out;
}

/** The display form: six groups of five characters joined by dashes. */
export function displayCredential(canonical) {
  return canonical.match(/.{5}/g).join('-');
}

/**
 * The signing key of a credential in election `electionId` (spec §5.2):
 * x = Hc(CREDENTIAL_KEY; id, data), X = x·G. `credential` is typed text or canonical.
 * Returns `{x, X}`; x is the voter's secret and must never leave the booth.
 */
export function deriveCredentialKey(electionId, credential) {
  const canonical = parseCredential(credential);
  const x = new ItemHasher(TAGS.CREDENTIAL_KEY)
    .str(electionId)
    .bytes(ascii.encode(canonical.slice(0, DATA_LEN)))
    .challenge();
  return { x, X: mulSecret(G, x) };
}

/** The public credential X of a credential in an election, as base64url text. */
export function publicCredential(electionId, credential) {
  return encodePoint(deriveCredentialKey(electionId, credential).X);
}

/**
 * A fresh credential in display form (spec §5.1: 26 random bytes, each taken mod 32). For tests
 * and tools: in an election, credentials come from the credential authority.
 */
export function generateCredential() {
  const bytes = randomBytes(DATA_LEN);
  const data = Array.from(bytes, (b) => CREDENTIAL_ALPHABET[b & 31]).join('');
  bytes.fill(0);
  return displayCredential(data + credentialChecksum(data));
}

/**
 * The fingerprint of a public credential list (spec §5.4): H₃₂(CREDENTIAL_LIST; n, then X and
 * weight of each entry in ascending order of X's encoding, ties by weight). `entries` are
 * `{credential: Point, weight: number|bigint}`.
 */
export function credentialListFingerprint(entries) {
  const sorted = entries
    .map((e) => ({ bytes: e.credential.toBytes(), weight: BigInt(e.weight) }))
    .sort((p, q) => {
      for (let i = 0; i < 32; i++) if (p.bytes[i] !== q.bytes[i]) return p.bytes[i] - q.bytes[i];
      return p.weight < q.weight ? -1 : p.weight > q.weight ? 1 : 0;
    });
  const h = new ItemHasher(TAGS.CREDENTIAL_LIST).len(sorted.length);
  for (const e of sorted) h.bytes(e.bytes).u64(e.weight);
  return h.digest32();
}
