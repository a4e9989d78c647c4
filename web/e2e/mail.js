// Reading the Maildir outboxes of the server and the credential authority, for the end-to-end
// tests: each file is one MIME message (RFC 5322 headers, RFC 2045 to 2047 bodies), read
// properly here: folded headers, encoded words, multipart bodies, quoted-printable and base64.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The messages of a Maildir's `new/` folder: [{headers: Map, parts: [{type, text}]}]. */
export function readMaildir(dir) {
  const folder = join(dir, 'new');
  return readdirSync(folder)
    .sort()
    .map((name) => parseMessage(readFileSync(join(folder, name))));
}

/** One message: its headers (lower-case names, decoded values) and its text parts, decoded. */
export function parseMessage(raw) {
  const { headers, body } = split(raw.toString('latin1'));
  return { headers, parts: leaves(headers, body), text: (type) => leaves(headers, body).find((p) => p.type === type)?.text };
}

function split(text) {
  const at = text.search(/\r?\n\r?\n/);
  const head = at < 0 ? text : text.slice(0, at);
  const body = at < 0 ? '' : text.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = new Map();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

/** The parameters of a structured header such as Content-Type: [value, {name: value}]. */
function params(value = '') {
  const [first, ...rest] = value.split(';');
  const out = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0) out[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return [first.trim().toLowerCase(), out];
}

function leaves(headers, body) {
  const [type, p] = params(headers.get('content-type') ?? 'text/plain');
  if (type.startsWith('multipart/')) {
    const boundary = `--${p.boundary}`;
    const chunks = body.split(new RegExp(`\\r?\\n?${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`));
    return chunks
      .slice(1, -1)
      .filter((c) => c.trim().length > 0)
      .flatMap((c) => {
        const part = split(c);
        return leaves(part.headers, part.body);
      });
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? quotedPrintable(body)
        : Buffer.from(body, 'latin1');
  const charset = (p.charset ?? 'utf-8').toLowerCase();
  return [{ type, text: new TextDecoder(charset === 'us-ascii' ? 'utf-8' : charset).decode(bytes) }];
}

function quotedPrintable(text) {
  const soft = text.replace(/=\r?\n/g, '');
  const out = [];
  for (let i = 0; i < soft.length; i += 1) {
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      out.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(soft.charCodeAt(i));
    }
  }
  return Buffer.from(out);
}

/** RFC 2047 encoded words (=?charset?B|Q?…?=) in a header's value. */
function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset, enc, data) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : quotedPrintable(data.replace(/_/g, ' '));
      return new TextDecoder(charset.toLowerCase()).decode(bytes);
    });
}

/** The bare address of a To or From header. */
export function address(value) {
  const m = /<([^>]+)>/.exec(value ?? '');
  return (m ? m[1] : (value ?? '')).trim().toLowerCase();
}

// ---- What the tests read in the letters ----

/** The messages of the Maildir `outbox` to `email`, oldest first ([] before the first one). */
export function lettersTo(outbox, email) {
  try {
    return readMaildir(outbox).filter((m) => address(m.headers.get('to')) === email);
  } catch {
    return []; // no outbox yet
  }
}

/** The server's login-code letters in `outbox` to `email`, in English or French. */
export function codeLetters(outbox, email) {
  return lettersTo(outbox, email).filter((m) => /login code|code de connexion/i.test(m.headers.get('subject') ?? ''));
}

/**
 * The login code of the `seen`-th code letter to `email` (from 0), waiting up to 30 s for it
 * to be delivered: `seen` is how many there were before the code was asked for.
 */
export async function loginCode(outbox, email, seen) {
  for (let n = 0; n < 300; n += 1) {
    const letters = codeLetters(outbox, email);
    if (letters.length > seen) {
      const code = /^\s*(\d{6})\s*$/m.exec(letters[seen].text('text/plain'));
      assert.ok(code, 'a code of six digits on its own line');
      return code[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no login code was mailed to ${email}`);
}

/** The voting link (with the credential in its fragment) of the authority's one letter to `email`. */
export function votingLink(outbox, email) {
  const letters = lettersTo(outbox, email);
  assert.equal(letters.length, 1, `one letter from the authority to ${email}`);
  const m = /(https?:\/\/\S+\/vote\/\S+#credential=[0-9A-Za-z-]+)/.exec(letters[0].text('text/plain'));
  assert.ok(m, `a voting link in the letter to ${email}`);
  return m[1];
}
