// Small DOM helpers for urne's public pages: elements are built with DOM calls, never from HTML
// strings (the election's texts are not ours), and with no inline style (the pages'
// Content-Security-Policy forbids it).

const SVG = 'http://www.w3.org/2000/svg';

/** An element `tag` with attributes `attrs` (`on…` are listeners) and children. */
export function el(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, as `el`. */
export function svg(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

function build(e, attrs, children) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.setAttribute('class', v);
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

/** The element of id `id`. */
export const $ = (id) => document.getElementById(id);

/** The election id in this page's address `/elections/{id}…`, or null. */
export function electionId(path = location.pathname) {
  const m = /^\/elections\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : null;
}

/** GETs `path` of the API and parses its JSON; throws an Error with the status otherwise. */
export async function getJson(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!r.ok) {
    const e = new Error(`${r.status}`);
    e.status = r.status;
    throw e;
  }
  return r.json();
}
