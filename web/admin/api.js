// The administration pages' calls to the API: the session cookie of POST /api/v1/admin/login
// travels with every same-origin request (the server refuses the cookie from another site).
// Errors keep the API's `{"error": {code, field, message, details}}` for the page to show
// next to the field they name.

/** An answer of the API that is not a success. */
export class ApiError extends Error {
  constructor(status, code, message, field = null, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
  }
}

/**
 * Calls the API: `method` `path` (from /api/v1), with `body` (an object sent as JSON, or a
 * string or Blob sent as `type`). The parsed JSON answer, null when empty; throws ApiError.
 */
export async function api(method, path, body, type = 'application/json') {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = type;
    init.body = typeof body === 'string' || body instanceof Blob ? body : JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(`/api/v1${path}`, init);
  } catch {
    throw new ApiError(0, 'network', 'network');
  }
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!r.ok) {
    const e = data?.error ?? {};
    throw new ApiError(r.status, e.code ?? String(r.status), e.message ?? `HTTP ${r.status}`, e.field ?? null, e.details ?? null);
  }
  return data;
}

/** The board's lines from `from` (at most `limit`), as text lines; [] before the board is public. */
export async function boardLines(id, from, limit = 10000) {
  const r = await fetch(`/api/v1/elections/${encodeURIComponent(id)}/board/lines?from=${from}&limit=${limit}`);
  if (r.status === 404) return [];
  if (!r.ok) throw new ApiError(r.status, String(r.status), `HTTP ${r.status}`);
  return (await r.text()).split('\n').filter((l) => l.length > 0);
}

/** The type of a board line, read from its start without parsing it (ballots are large). */
export function lineType(line) {
  const m = /^\{"seq":\d+,"type":"([a-z_]+)"/.exec(line);
  return m ? m[1] : null;
}

/** `/admin/elections/{id}…` path of the API for election `id`. */
export const electionPath = (id, rest = '') => `/admin/elections/${encodeURIComponent(id)}${rest}`;

/**
 * The first position in [lo, hi) of the board whose line's type is in `types`, or `hi`, found by
 * bisection (about log₂(hi − lo) requests of one line each). The board's lines come in the order
 * of the phases (setup lines, open, ballots, close, tally, factors, result), so "the type is one
 * of the later ones" is false and then true along the board.
 */
export async function firstOfTypes(id, lo, hi, types) {
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const [line] = await boardLines(id, mid, 1);
    if (line === undefined) return hi;
    if (types.has(lineType(line))) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
