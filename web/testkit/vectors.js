// Helpers for the test-vector tests: loading a file of test-vectors/, resolving derived cases
// (`base` + RFC 6902 `patch`), hash items as the vectors write them, and replaying recorded
// randomness.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ItemHasher, decodePoint, decodeScalar, fromBase64Url, mod } from '../src/urne/index.js';

const VECTORS = new URL('../../test-vectors/', import.meta.url);

/** Reads test-vectors/<name>.json and checks its format. */
export function loadVectors(name) {
  const path = fileURLToPath(new URL(`${name}.json`, VECTORS));
  const file = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(file.format, 'urne/test-vectors/v1', `${name}.json: unknown format`);
  assert.ok(Array.isArray(file.cases) && file.cases.length > 0, `${name}.json: no cases`);
  return file;
}

function unescapePointer(token) {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Applies RFC 6902 operations (replace, add, remove) to a copy of `doc`. */
export function applyPatch(doc, patch) {
  const out = structuredClone(doc);
  for (const op of patch) {
    const tokens = op.path.split('/').slice(1).map(unescapePointer);
    const last = tokens.pop();
    let parent = out;
    for (const t of tokens) {
      assert.ok(parent !== null && typeof parent === 'object' && Object.hasOwn(parent, t), `patch path ${op.path} does not exist`);
      parent = parent[t];
    }
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      assert.ok(Number.isInteger(i) && i >= 0 && i <= parent.length, `bad index in ${op.path}`);
      if (op.op === 'add') parent.splice(i, 0, structuredClone(op.value));
      else if (op.op === 'remove') parent.splice(i, 1);
      else if (op.op === 'replace') parent[i] = structuredClone(op.value);
      else assert.fail(`unknown patch operation ${op.op}`);
    } else {
      if (op.op !== 'add') assert.ok(Object.hasOwn(parent, last), `patch path ${op.path} does not exist`);
      if (op.op === 'remove') delete parent[last];
      else if (op.op === 'add' || op.op === 'replace') parent[last] = structuredClone(op.value);
      else assert.fail(`unknown patch operation ${op.op}`);
    }
  }
  return out;
}

/**
 * The file's cases with derived ones resolved: a case with `base` and `patch` becomes the base
 * case patched, with the derived case's name, comment, valid flag, error and location. The base's
 * secrets and outputs are dropped, as test-vectors/README.md says.
 */
export function resolvedCases(file) {
  const byName = new Map(file.cases.map((c) => [c.name, c]));
  assert.equal(byName.size, file.cases.length, 'case names must be unique');
  const BASE_ONLY = ['witness', 'nonces', 'nonce', 'randomness', 'tracker', 'body_items', 'fingerprint_items'];
  return file.cases.map((c) => {
    if (c.base === undefined) return c;
    const base = byName.get(c.base);
    assert.ok(base && base.valid, `${c.name}: base ${c.base} is not a valid case`);
    const patched = applyPatch(base, c.patch);
    for (const k of BASE_ONLY) delete patched[k];
    const out = { ...patched };
    for (const k of ['name', 'comment', 'valid', 'error', 'path', 'item', 'position', 'found', 'kind']) {
      if (c[k] !== undefined) out[k] = c[k];
      else if (k !== 'kind') delete out[k];
    }
    return out;
  });
}

/** The bytes of one typed hash item of the vectors ({str}, {u64}, {bytes_b64}, {point}, {scalar}). */
export function itemBytes(item) {
  const [[type, v]] = Object.entries(item);
  switch (type) {
    case 'str':
      return new TextEncoder().encode(v);
    case 'u64': {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(v));
      return b;
    }
    case 'bytes_b64':
      return fromBase64Url(v);
    case 'point':
      return decodePoint(v).toBytes();
    case 'scalar':
      return fromBase64Url(v, 32);
    default:
      return assert.fail(`unknown item type ${type}`);
  }
}

/** An ItemHasher fed a vector's `{tag, items}`. */
export function hasherFromVector(prefix) {
  const h = new ItemHasher(prefix.tag);
  for (const item of prefix.items) h.bytes(itemBytes(item));
  return h;
}

/**
 * Records the items a function appends to a hasher, to compare them one by one with a vector's
 * list of items (better diagnostics than comparing digests).
 */
export class RecordingHasher {
  constructor() {
    this.items = [];
  }
  bytes(b) {
    this.items.push(Uint8Array.from(b));
    return this;
  }
  str(s) {
    return this.bytes(new TextEncoder().encode(s));
  }
  u64(n) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, typeof n === 'boolean' ? (n ? 1n : 0n) : BigInt(n));
    return this.bytes(b);
  }
  len(n) {
    return this.u64(n);
  }
  point(P) {
    return this.bytes(P.toBytes());
  }
  scalar(s) {
    const b = new Uint8Array(32);
    let n = s;
    for (let i = 0; i < 32; i++) {
      b[i] = Number(n & 0xffn);
      n >>= 8n;
    }
    return this.bytes(b);
  }
}

/** Asserts that recorded items equal a vector's list of typed items. */
export function assertItems(recorded, items, what) {
  assert.equal(recorded.length, items.length, `${what}: number of items`);
  items.forEach((item, i) => {
    assert.deepEqual(Buffer.from(recorded[i]).toString('hex'), Buffer.from(itemBytes(item)).toString('hex'), `${what}: item ${i} (${JSON.stringify(item)})`);
  });
}

/**
 * A `draw` function that returns the given scalars in order (base64url, or null for a value the
 * prover draws and discards: the real branch's simulated challenge), and fails if the prover
 * draws more or fewer than recorded (call `done()` at the end).
 */
export function replay(scalars) {
  let i = 0;
  const draw = () => {
    assert.ok(i < scalars.length, `the prover drew more than the ${scalars.length} recorded scalars`);
    const s = scalars[i++];
    return s === null ? mod(0x5eedn + BigInt(i)) : decodeScalar(s);
  };
  draw.done = () => assert.equal(i, scalars.length, 'the prover drew fewer scalars than recorded');
  return draw;
}

/** The draws of a disjunctive proof's recorded nonces: per branch, c′ then each t. */
export function nonceDraws(nonces) {
  return nonces.flatMap((br) => [br.c, ...br.t]);
}

/** Hex of bytes. */
export function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

/**
 * Runs `fn` and asserts it throws an UrneError of `kind` (and, when given, with `path`,
 * `position`, `found`).
 */
export function assertRejects(fn, expected, what) {
  let error;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  assert.ok(error, `${what}: accepted, expected ${expected.kind}`);
  assert.equal(error.name, 'UrneError', `${what}: ${error.stack}`);
  assert.equal(error.kind, expected.kind, `${what}: ${error.message}`);
  for (const k of ['path', 'position', 'found']) {
    if (expected[k] !== undefined) assert.equal(error[k], expected[k], `${what}: ${k} (${error.message})`);
  }
  return error;
}
