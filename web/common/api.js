// One call to urne's API from a page, for the pages that read its answers themselves (the booth,
// the trustee page): the body goes as JSON (or as given, when a string), a token as
// `Authorization: Bearer`, and nothing is cached.

/**
 * Calls `method` `url` with `body` (an object, sent as JSON, or a string sent as is) and the
 * bearer `token` if any; resolves with `{status, ok, json}` (`json` null when the answer has no
 * JSON body). A network failure rejects, as `fetch` does.
 */
export async function callApi(method, url, body, { token = null, credentials = 'same-origin' } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    credentials,
    cache: 'no-store',
  });
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  return { status: response.status, ok: response.ok, json };
}
