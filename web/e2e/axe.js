// axe-core in the end-to-end tests: WCAG 2.1 A and AA checks on a page as the test left it.
//
// axe-core's source is evaluated through the DevTools protocol (`page.evaluate`), which the
// page's Content-Security-Policy does not govern, so the pages are checked as served, under
// their policy, without `bypassCSP` or a script tag.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG 2.1 A and AA rule tags. */
export const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Runs axe-core on `page` and asserts no WCAG 2.1 A or AA violation; logs what it checked. */
export async function noViolations(page, what) {
  const loaded = await page.evaluate(() => typeof globalThis.axe?.run === 'function');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate((tags) => globalThis.axe.run(document, { runOnly: { type: 'tag', values: tags } }), WCAG);
  const found = result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`,
  );
  assert.deepEqual(found, [], `axe-core on ${what}:\n${found.join('\n')}`);
  assert.ok(result.passes.length > 10, `axe-core ran its checks on ${what}`);
  console.log(`# axe-core: ${what}: 0 violations, ${result.passes.length} rules passed`);
}

/**
 * Asserts that the page needs no horizontal scrolling at its current viewport (WCAG 1.4.10
 * reflow: at 200 % zoom of a 1280-pixel window, that is 640 CSS pixels).
 */
export async function noHorizontalScroll(page, what) {
  const { scroll, width, wide } = await page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const x = window.scrollX;
    const right = (r) => r.right + x;
    const name = (e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className ? `.${String(e.className).split(' ').join('.')}` : ''}`;
    // What reaches past the viewport: elements, and text that overflows its element (a long
    // unbreakable word), named by the innermost element.
    const past = [];
    for (const e of document.body.querySelectorAll('*')) {
      if (right(e.getBoundingClientRect()) > w + 0.5) past.push([e, right(e.getBoundingClientRect())]);
    }
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(n);
      const r = right(range.getBoundingClientRect());
      if (r > w + 0.5) past.push([n.parentElement, r, n.textContent.trim().slice(0, 30)]);
    }
    const innermost = past.filter(([e]) => !past.some(([o]) => o !== e && e.contains(o)));
    return {
      scroll: document.documentElement.scrollWidth,
      width: w,
      wide: innermost.slice(0, 5).map(([e, r, text]) => `${name(e)}${text ? ` “${text}”` : ''} (right edge ${Math.round(r)} px)`),
    };
  });
  assert.ok(scroll <= width, `${what}: the page is ${scroll} px wide in a ${width} px viewport; past the edge: ${wide.join(', ')}`);
}
