// Reading the board's lines before the tally, shared by the trustee page's two checks before a
// decryption: the mix input's digest (mix-chain.js) and the encrypted tally (tally-check.js).
// Both read the ballot lines from the board's first line up to its `tally` line and count the
// last ballot of each credential in board order, as the server does (spec §8.2, V-13), through
// counted-ballots.js `readCountedBallots`, which checks the ballots for both.
//
// The reading goes through `readLines(from, limit)`, which returns the board's lines from `from`
// as parsed JSON values (the worker reads GET /api/v1/elections/{id}/board/lines; the tests give
// a board in memory). Errors are UrneError `format`.

import { UrneError } from '../src/urne/trustee-index.js';

/** Lines read per request of the ballots (one ballot line is a few kilobytes). */
export const BALLOT_PAGE = 500;

/** The board's lines `from` … `from + limit − 1`; `format` when the board gives another number. */
export async function readRange(readLines, from, limit) {
  const lines = await readLines(from, limit);
  if (!Array.isArray(lines) || lines.length !== limit) {
    throw new UrneError('format', `the board gave ${Array.isArray(lines) ? lines.length : 'no'} lines from line ${from}, ${limit} were asked`);
  }
  return lines;
}

/**
 * Reads the board of `size` lines from its first line, in pages of BALLOT_PAGE, and calls
 * `visit(line, seq)` on each line before the `tally` line (`seq` its position). Returns
 * `{tally, seq}`, the tally line and its position; `format` when the board has no tally line.
 * `onProgress(done, size)` is called before each page.
 *
 * @param {(from: number, limit: number) => Promise<object[]>} readLines
 * @param {number} size the board's size
 * @param {(line: object, seq: number) => void} visit
 * @param {(done: number, total: number) => void} [onProgress]
 */
export async function readUpToTally(readLines, size, visit, onProgress) {
  for (let at = 0; at < size; at += BALLOT_PAGE) {
    onProgress?.(at, size);
    const lines = await readRange(readLines, at, Math.min(BALLOT_PAGE, size - at));
    for (let k = 0; k < lines.length; k += 1) {
      if (lines[k]?.type === 'tally') {
        onProgress?.(size, size);
        return { tally: lines[k], seq: at + k };
      }
      visit(lines[k], at + k);
    }
  }
  throw new UrneError('format', 'the board has no tally line: the votes are not counted yet');
}

/**
 * The counted ballots under the revote rule `last_counts` (spec V-13): for each credential, the
 * last ballot cast with it, in board order. `cast(credential, value)` records a ballot and returns
 * the value of the ballot it replaces (undefined for a credential's first ballot); `counted()`
 * gives the counted values in board order.
 */
export class LastBallots {
  #last = new Map();

  /** Records the ballot `value` of `credential` (a string); returns the one it replaces. */
  cast(credential, value) {
    const before = this.#last.get(credential);
    // Deleted first, so that the map's order is the order of each credential's last ballot.
    this.#last.delete(credential);
    this.#last.set(credential, value);
    return before;
  }

  /** Whether `credential` has cast a ballot. */
  has(credential) {
    return this.#last.has(credential);
  }

  /** The number of counted ballots. */
  get size() {
    return this.#last.size;
  }

  /** The counted ballots' values, in board order. */
  counted() {
    return [...this.#last.values()];
  }
}
