// The public board page names every type of line a record can hold, in each of its languages:
// the types are read from the verifier's own list (crates/urne-verify/src/record.rs, Entry::kind),
// so a new kind of line without a label fails here rather than showing its raw name to visitors.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const source = readFileSync(new URL('../../crates/urne-verify/src/record.rs', import.meta.url), 'utf8');

/** The `type` strings of Entry::kind, in order. */
function recordKinds() {
  const body = /pub fn kind\(&self\) -> &'static str \{([\s\S]*?)\n {4}\}/.exec(source);
  assert.ok(body, 'Entry::kind in record.rs');
  const kinds = [...body[1].matchAll(/Entry::\w+\(_\) => "([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(kinds.length >= 10, `found the kinds: ${kinds}`);
  return kinds;
}

test('every kind of record line has a label in English and French', async () => {
  // words.js sets <html lang> when the language changes: a minimal document for node.
  globalThis.document = { documentElement: {} };
  const { named, setLanguage, t } = await import('../public/words.js');
  for (const lang of ['en', 'fr']) {
    setLanguage(lang);
    for (const kind of recordKinds()) {
      assert.ok(Object.hasOwn(t('types'), kind), `${lang}: no label for '${kind}' lines`);
      assert.ok(named('types', kind).length > 0);
    }
  }
  setLanguage('en');
  assert.notEqual(named('types', 'booth'), (setLanguage('fr'), named('types', 'booth')), 'the languages differ');
});
