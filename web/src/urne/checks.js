// Helpers shared by trustee.js and mix.js: decoding a relayed document, and reading an identity
// or share secret as a scalar. Internal: the public entry points (index.js, trustee-index.js) do
// not re-export this module.

import { scalarFromBytes } from './encoding.js';
import { UrneError } from './errors.js';
import { parseStrictJson } from './json.js';

/** Runs a decoder on a value or JSON text, turning its errors into `format` at their path. */
export function decodeDocument(input, decode) {
  try {
    const value = typeof input === 'string' ? parseStrictJson(input, 'format') : input;
    return decode(value, '');
  } catch (e) {
    if (!(e instanceof UrneError) || e.kind === 'format') throw e;
    throw new UrneError('format', e.message, { path: e.path ?? '.', cause: e });
  }
}

/**
 * The scalar x of 32 secret bytes (an identity key or a share): canonical and non-zero, else a
 * `key` error; a TypeError when `secret` is not a Uint8Array.
 */
export function identityScalar(secret) {
  if (!(secret instanceof Uint8Array)) throw new TypeError('identitySecret must be a Uint8Array');
  let x;
  try {
    x = scalarFromBytes(secret);
  } catch (e) {
    throw new UrneError('key', 'the secret does not hold a valid key', { cause: e });
  }
  if (x === 0n) throw new UrneError('key', 'the secret does not hold a valid key');
  return x;
}
