// A strict JSON reader for spec §2.6. `JSON.parse` is not enough for urne's documents: it keeps
// the last of two equal keys, reads `1.0` and `1e0` as the integer 1, loses precision above
// 2^53, and accepts strings that decode to lone surrogates. This reader refuses duplicate keys and
// lone surrogates, keeps integers exact (a bigint above 2^53 − 1), and marks every number that is
// not written as a plain unsigned integer, so that typed decoders refuse it where an integer is
// required. It accepts exactly RFC 8259 otherwise.

import { UrneError } from './errors.js';

/** A JSON number not written as an unsigned integer (`-1`, `1.0`, `1e0`): no urne field takes one. */
export class JsonNonInteger {
  constructor(text) {
    this.text = text;
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);

/**
 * Parses a JSON text strictly (see above). Objects are plain objects whose keys keep their
 * document order; errors are `kind` at path `.` with the offset in the message.
 */
export function parseStrictJson(text, kind = 'parse') {
  let i = 0;
  const fail = (msg) => {
    throw new UrneError(kind, `${msg} at character ${i + 1}`, { path: '.' });
  };
  const ws = () => {
    while (i < text.length && WS.has(text[i])) i++;
  };
  const lit = (word, value) => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail('invalid JSON');
  };
  const string = () => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        break;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const hex = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            fail('bad escape');
        }
        continue;
      }
      out += text[i];
      i++;
    }
    if (!out.isWellFormed()) fail('a string that decodes to a lone surrogate');
    return out;
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-') fail('invalid number');
    i += m[0].length;
    if (m[0].startsWith('-') || m[2] || m[3]) return new JsonNonInteger(m[0]);
    const n = BigInt(m[0]);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  };
  const value = (depth) => {
    if (depth > 128) fail('nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = {};
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const key = string();
        if (Object.hasOwn(obj, key)) fail(`the field \`${key}\` appears twice`);
        ws();
        if (text[i] !== ':') fail('expected `:`');
        i++;
        Object.defineProperty(obj, key, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected `,` or `}`');
      }
    }
    if (c === '[') {
      i++;
      const arr = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected `,` or `]`');
      }
    }
    if (c === '"') return string();
    if (c === 't') return lit('true', true);
    if (c === 'f') return lit('false', false);
    if (c === 'n') return lit('null', null);
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    return fail('invalid JSON');
  };
  if (typeof text !== 'string') throw new UrneError(kind, 'expected JSON text', { path: '.' });
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters after the document');
  return v;
}

// Typed decoding with paths, shared by manifests and ballots. Paths are written as urne-core
// writes them: `questions[1].min`, `.` for the document itself.

/** Joins a path and a field name. */
export function field(path, name) {
  return path === '' ? name : `${path}.${name}`;
}

/** Joins a path and an array index. */
export function index(path, i) {
  return `${path}[${i}]`;
}

/** Error kind used by the typed decoders below; callers wrap it as `format` or `parse`. */
const TYPE = 'type';

function typeError(path, msg) {
  return new UrneError(TYPE, msg, { path: path === '' ? '.' : path });
}

/** Runs `decode(value)` and attaches `path` to any UrneError it throws without one. */
export function at(path, decode, value) {
  try {
    return decode(value);
  } catch (e) {
    if (e instanceof UrneError && e.path === undefined) {
      e.path = path === '' ? '.' : path;
      e.message = `${e.kind}: ${e.path}: ${e.detail}`;
    }
    throw e;
  }
}

/**
 * Decodes an object with exactly the given fields. `fields` maps each name to
 * `[decode(value, path), required]`; unknown fields, missing required ones and `null` for an
 * optional one are refused. Returns the decoded fields (absent optional ones left out).
 */
export function object(value, path, fields) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw typeError(path, 'expected an object');
  }
  const out = {};
  for (const key of Object.keys(value)) {
    const spec = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!spec) throw typeError(field(path, key), `unknown field \`${key}\``);
    const p = field(path, key);
    if (value[key] === null) throw typeError(p, 'null is not a value (leave an absent field out)');
    out[key] = at(p, (v) => spec[0](v, p), value[key]);
  }
  for (const [key, [, required]] of Object.entries(fields)) {
    if (required && !Object.hasOwn(value, key)) throw typeError(path, `missing field \`${key}\``);
  }
  return out;
}

/** Decodes an array, each element by `decode(value, path)`. */
export function array(value, path, decode) {
  if (!Array.isArray(value)) throw typeError(path, 'expected an array');
  return value.map((v, i) => {
    const p = index(path, i);
    return at(p, (x) => decode(x, p), v);
  });
}

/** A JSON string. */
export function string(value, path) {
  if (typeof value !== 'string') throw typeError(path, 'expected a string');
  return value;
}

/** A JSON boolean. */
export function boolean(value, path) {
  if (typeof value !== 'boolean') throw typeError(path, 'expected a boolean');
  return value;
}

/** An unsigned integer of at most `bits` bits (u32, u64), written as a JSON integer. */
export function unsigned(bits) {
  const max = (1n << BigInt(bits)) - 1n;
  return (value, path) => {
    let n;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) n = BigInt(value);
    else if (typeof value === 'bigint' && value >= 0n) n = value;
    else throw typeError(path, `expected an unsigned integer (u${bits})`);
    if (n > max) throw typeError(path, `larger than u${bits}`);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  };
}

/** One of the listed strings. */
export function oneOf(...values) {
  return (value, path) => {
    if (typeof value !== 'string' || !values.includes(value)) {
      throw typeError(path, `expected one of ${values.map((v) => `"${v}"`).join(', ')}`);
    }
    return value;
  };
}
