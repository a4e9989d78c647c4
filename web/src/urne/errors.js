// One error type for everything the protocol code refuses, so that callers (the booth's pages,
// the tests) can tell what failed and where without parsing messages.

/**
 * Why an input was refused.
 *
 * `kind` is one of the error kinds of test-vectors/README.md:
 * - decoding: `bad_base64`, `wrong_length`, `non_canonical_point`, `identity_point`,
 *   `non_canonical_scalar`;
 * - credentials: `checksum`, `bad_character` (with `position`, from 1), `wrong_length` (with
 *   `found`);
 * - proofs: `shape`, `challenge_sum`, `equation`;
 * - documents: `format` (a manifest that does not parse), `rule` (a manifest that breaks a rule of
 *   spec §4.2), `parse` (a ballot that does not parse), `vote` (a vote the booth refuses to
 *   encrypt), `opening` (an opened ballot whose randomness or tracker does not fit its ballot);
 * - checks of spec §10: `V-3`, `V-5`, `V-6`, `V-8`, `V-9`, `V-10`.
 *
 * `path` names the field, as urne-core does (`answers[1].choice_proofs[0]`, `.` for the whole
 * document); `cause` is the lower-level error when one was wrapped. No message ever holds a secret.
 */
export class UrneError extends Error {
  /**
   * @param {string} kind
   * @param {string} message
   * @param {{path?: string, cause?: UrneError, position?: number, found?: number}} [details]
   */
  constructor(kind, message, details = {}) {
    const where = details.path === undefined ? '' : `${details.path}: `;
    super(`${kind}: ${where}${message}`, details.cause ? { cause: details.cause } : undefined);
    this.name = 'UrneError';
    this.kind = kind;
    this.detail = message;
    this.path = details.path;
    if (details.position !== undefined) this.position = details.position;
    if (details.found !== undefined) this.found = details.found;
  }
}

/** Rethrows `e` as an error of `kind` at the same path, keeping `e` as the cause. */
export function rewrap(e, kind) {
  if (!(e instanceof UrneError)) throw e;
  return new UrneError(kind, `${e.kind}: ${e.detail}`, {
    path: e.path ?? '.',
    cause: e,
  });
}
