// The booth's one DOM helper, shared by booth.js and mixed.js: elements are made with DOM calls,
// never from HTML strings (the election's texts are not ours).

/**
 * A new element `tag` with attributes (`class`, `on…` listeners, `true` for a bare attribute;
 * `undefined`, `null` and `false` leave it out) and children (nodes, strings, nested arrays).
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
  return e;
}
