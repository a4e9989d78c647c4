// The trustee page's view of the mix phase (spec §8.8; docs/trustees.md, "the mix phase"): which
// step the phase is at for this trustee, from the server's GET …/mix, and how far a shuffle or a
// decryption has gone in the worker. Pure functions, tested in web/test/trustee-mix.test.js.
//
// web/src/urne/mix.js reports the progress of a shuffle and of a decryption itself (their
// `onProgress(done, total)` option, in units of work that it counts); the worker throttles the
// reports (`throttled`) and posts the fraction done.

/**
 * Where the mix phase stands for trustee `index`, from a page of GET /api/v1/elections/{id}/mix
 * (its state only: `limit=0` is enough). The stage is `tally` while the tally's factors are not
 * all on the board, `shuffle` until `shuffles_needed` trustees have shuffled, `decrypt` until the
 * last list is decrypted, then `done`. What the trustee may do mirrors `urne trustee shuffle`
 * and `mix-decrypt` (crates/urne-cli/src/trustee/mix.rs) and the server's checks: a trustee
 * shuffles at the next position (`next_shuffle`), once, while nobody decrypts; it decrypts once
 * enough trustees have shuffled, once.
 *
 * @param {object} view the server's MixView (shufflers, shuffles_needed, decryptors, …)
 * @param {number} index this trustee's index, from 1
 * @param {number} trustees how many trustees the election has
 */
export function mixStage(view, index, trustees) {
  const shufflers = view.shufflers ?? [];
  const decryptors = view.decryptors ?? [];
  const shuffled = shufflers.includes(index);
  const decrypted = decryptors.includes(index);
  let stage;
  if (view.tally_decryptions < view.decryptions_needed) stage = 'tally';
  else if (view.decrypted || view.result) stage = 'done';
  else if (shufflers.length < view.shuffles_needed) stage = 'shuffle';
  else stage = 'decrypt';
  const all = Array.from({ length: trustees }, (_, i) => i + 1);
  return {
    stage,
    shuffled,
    decrypted,
    /** The position (from 0) of the next shuffle. */
    position: view.next_shuffle ?? shufflers.length,
    /** Whether this trustee may shuffle now (the page's button). */
    canShuffle: stage === 'shuffle' && !shuffled && decryptors.length === 0 && view.ballots > 0,
    /** Whether this trustee may send its factors of the last list now. */
    canDecrypt: stage === 'decrypt' && !decrypted && view.ballots > 0,
    /** The trustees who may make the next shuffle (those who have not shuffled), in order. */
    mayShuffle: stage === 'shuffle' ? all.filter((i) => !shufflers.includes(i)) : [],
    /** Shuffles and decryptions still needed. */
    shufflesLeft: Math.max(0, view.shuffles_needed - shufflers.length),
    decryptionsLeft: Math.max(0, view.decryptions_needed - decryptors.length),
  };
}

/**
 * A reporter of `done` out of `total` that calls `send({done, total})` only when the fraction has
 * grown by `step` (and at the end), so that a loop of millions of steps posts a hundred messages.
 */
export function throttled(total, send, step = 0.01) {
  let last = -1;
  return (done) => {
    const d = Math.min(done, total);
    if (d === total || last < 0 || (d - last) / Math.max(1, total) >= step) {
      last = d;
      send({ done: d, total });
    }
  };
}

/** A fraction in [0, 1] of `done` out of `total` (1 for an empty total), kept below 1 until the end when `open`. */
export function fraction(done, total, open = false) {
  if (!(total > 0)) return 1;
  const f = Math.min(1, Math.max(0, done / total));
  return open ? Math.min(f, 0.99) : f;
}

/** `bytes` in words for language `lang` (kB and MB in decimal units, as browsers show downloads). */
export function formatBytes(bytes, lang = 'en') {
  const [value, unit] = bytes >= 1e6 ? [bytes / 1e6, 'megabyte'] : bytes >= 1e3 ? [bytes / 1e3, 'kilobyte'] : [bytes, 'byte'];
  return new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(value);
}

/**
 * The upload's plan: the requests' bodies (JSON text) with the rows each carries, and their
 * totals. Bytes are counted as UTF-8 (the bodies are ASCII JSON: one byte a character).
 *
 * @param {{body: string, rows: number}[]} parts
 */
export function uploadPlan(parts) {
  const enc = new TextEncoder();
  const out = parts.map((p) => ({ body: p.body, rows: p.rows, bytes: enc.encode(p.body).length }));
  return { parts: out, rows: out.reduce((s, p) => s + p.rows, 0), bytes: out.reduce((s, p) => s + p.bytes, 0) };
}
