// The ballot (spec §7): creation from a vote (encryption, choice and count proofs, signature),
// its canonical items, its tracker, its JSON form, and its verification (V-5, V-6, V-8, V-9,
// V-10; V-7, the credential's eligibility, is the server's and the verifier's).

import { bytesEqual, decodeDigest, decodePoint, decodeScalar, encodePoint, encodeScalar, mod, toBase64Url } from './encoding.js';
import { UrneError, rewrap } from './errors.js';
import { ItemHasher, TAGS } from './hash.js';
import { array, object, oneOf, parseStrictJson, string } from './json.js';
import { isGrading, isMixed, isRanking, valueBound } from './manifest.js';
import {
  choiceAllowed,
  choicePrefix,
  countAllowed,
  countPrefix,
  countStatement,
  decodeCiphertext,
  decodeDisjunctive,
  decodeSchnorr,
  encodeCiphertext,
  encodeDisjunctive,
  encodeSchnorr,
  encrypt,
  hashDisjunctive,
  proveDisjunctive,
  proveSchnorr,
  verifyDisjunctive,
  verifySchnorr,
} from './proofs.js';
import { randomScalar } from './random.js';

/** The ballot format of this version (spec §11). */
export const BALLOT_FORMAT = 'urne/ballot/v1';

/**
 * Checks a ranking against its question (urne-core's `check_ranking`): one entry per answer, 0
 * for an answer not ranked, and the ranks given are 1, 2, …, k, each once, with min ≤ k ≤ max.
 * Returns null when it holds, else what is wrong, in urne-core's words ("answer 2: rank 3 is
 * given twice"). The booth uses it to tell the voter, as they choose, what is left to fix.
 */
export function checkRanking(question, ranks) {
  const n = question.answers.length;
  if (ranks.length !== n) return `${ranks.length} ranks for ${n} answers`;
  const k = ranks.filter((r) => r !== 0).length;
  if (k < question.min || k > question.max) {
    return `${k} answers ranked, between ${question.min} and ${question.max} are allowed`;
  }
  const seen = new Array(k).fill(false);
  for (let a = 0; a < n; a++) {
    const r = ranks[a];
    if (r === 0) continue;
    if (r > k) return `answer ${a}: rank ${r}, but only ${k} answers are ranked (ranks go 1 to ${k})`;
    if (seen[r - 1]) return `answer ${a}: rank ${r} is given twice`;
    seen[r - 1] = true;
  }
  return null;
}

const isU32 = (x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff;

/** The plaintexts of a plurality question's choices and its blank flag, for vote `v`. */
function pluralityValues(q, v, refuse) {
  const plaintexts = new Array(q.answers.length).fill(0);
  if (v && v.blank === true && v.selected === undefined) {
    if (!q.blank) throw refuse('this question allows no blank vote');
    return { plaintexts, blank: 1 };
  }
  if (!v || !Array.isArray(v.selected) || (v.blank !== undefined && v.blank !== false)) {
    throw refuse('expected {selected: [answer indices]} or {blank: true}');
  }
  for (const a of v.selected) {
    if (!Number.isInteger(a) || a < 0 || a >= q.answers.length) {
      throw refuse(`answer ${a} does not exist`);
    }
    if (plaintexts[a] === 1) throw refuse(`answer ${a} is selected twice`);
    plaintexts[a] = 1;
  }
  const n = v.selected.length;
  if (n < q.min || n > q.max) throw refuse(`select between ${q.min} and ${q.max} answers`);
  return { plaintexts, blank: 0 };
}

/** Whether `v` is an object with exactly the one key `key`, holding an array. */
function only(v, key) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && Array.isArray(v[key]);
}

/**
 * The ranks of a ranked question for vote `{ranks}` (urne-core's `question_values`): every rule
 * is counted over all answers before any refusal, as urne-core does in constant time, and only a
 * refusal names what is wrong.
 */
function rankedValues(q, v, refuse) {
  if (!only(v, 'ranks')) throw refuse(`counted by ${q.counting}: expected {ranks: [a rank or 0 for every answer]}`);
  const ranks = v.ranks;
  const n = q.answers.length;
  if (ranks.length !== n) throw refuse(`${ranks.length} ranks for ${n} answers`);
  const bad = ranks.find((r) => !isU32(r));
  if (bad !== undefined) throw refuse(`rank ${bad} is not a whole number`);
  let ranked = 0;
  for (const r of ranks) ranked += r !== 0 ? 1 : 0;
  let ok = true;
  for (let j = 1; j <= n; j++) {
    let have = 0;
    for (const r of ranks) have += r === j ? 1 : 0;
    ok = ok & (have === (j <= ranked ? 1 : 0));
  }
  if (!ok || ranked < q.min || ranked > q.max) {
    throw refuse(checkRanking(q, ranks) ?? 'the ranks are not 1, 2, …, k');
  }
  return { plaintexts: [...ranks], blank: 0 };
}

/**
 * The grade values of a graded question for vote `{grades}`: the vote names each answer's grade
 * by its position in `grades` (0 for the best); the value encrypted is g − 1 − position (spec
 * §4.1, §7.1), so that 0 is the worst grade.
 */
function gradedValues(q, v, refuse) {
  if (!only(v, 'grades')) throw refuse('counted by majority_judgment: expected {grades: [a grade for every answer]}');
  const grades = v.grades;
  const n = q.answers.length;
  const g = q.grades.length;
  if (grades.length !== n) throw refuse(`${grades.length} grades for ${n} answers`);
  const a = grades.findIndex((x) => !isU32(x) || x >= g);
  if (a >= 0) throw refuse(`answer ${a}: grade ${grades[a]} does not exist (there are ${g})`);
  return { plaintexts: grades.map((x) => g - 1 - x), blank: 0 };
}

/**
 * Checks a vote against the manifest before anything is encrypted (spec §7.1, "Creating a
 * ballot"). A vote has one entry per question: for a plurality question `{selected: [answer
 * indices]}` or `{blank: true}`; for a ranked one (`schulze`, `stv`) `{ranks: [r per answer]}`,
 * 0 for an answer not ranked, else 1 … k; for a graded one (`majority_judgment`) `{grades: [g per
 * answer]}`, each the grade's position in the manifest's `grades` (0 = best). Throws `vote` at
 * `[q]` for a missing or extra question, a vote of the wrong kind, an answer index that does not
 * exist or appears twice, fewer than `min` or more than `max` selections, a blank vote where the
 * question allows none, ranks that are not 1, 2, …, k over distinct answers with min ≤ k ≤ max,
 * or a grade that does not exist. Returns, per question, the plaintexts of its choices (values of
 * spec §6.3) and its blank flag.
 */
export function checkVote(manifest, vote) {
  const refuse = (path, msg) => new UrneError('vote', msg, { path });
  if (!Array.isArray(vote) || vote.length !== manifest.questions.length) {
    throw refuse('.', `the vote must answer each of the ${manifest.questions.length} questions once`);
  }
  return manifest.questions.map((q, qi) => {
    const v = vote[qi];
    const here = (msg) => refuse(`[${qi}]`, msg);
    if (isRanking(q)) return rankedValues(q, v, here);
    if (isGrading(q)) return gradedValues(q, v, here);
    return pluralityValues(q, v, here);
  });
}

/**
 * Creates a ballot (spec §7.1) for `election` (from `loadElection`), signed with the credential
 * key `{x, X}` (from `deriveCredentialKey`). Per question: the choices' randomness, their
 * encryptions, the choice proofs, then (with blank votes) the blank flag's randomness and
 * encryption, then the count proof; finally the signature. `draw` returns a uniform scalar; it
 * defaults to the system's generator and is only replaced by tests that replay recorded
 * randomness. Returns `{ballot, json, tracker}`: the decoded ballot, its canonical JSON text and
 * its tracker in base64url.
 */
export function createBallot(election, key, vote, draw = randomScalar) {
  return makeBallot(election, key, vote, draw, null);
}

/**
 * Makes a ballot and keeps what `createBallot` forgets: the ElGamal randomness of each of its
 * ciphertexts, so that the voter can audit the encryption (Benaloh's cast-or-audit challenge;
 * docs/booth.md, spec §7.5). Returns `{ballot, json, tracker, opened}`, `opened` being the opened
 * ballot's JSON value (`encodeOpenedBallot`). A ballot whose randomness is known tells anyone
 * how it votes: it must never be cast, and the booth makes a new one to cast.
 */
export function createAuditedBallot(election, key, vote, draw = randomScalar) {
  const kept = [];
  const made = makeBallot(election, key, vote, draw, kept);
  const opened = encodeOpenedBallot(election, made, vote, kept);
  return { ...made, opened };
}

function makeBallot(election, key, vote, draw, kept) {
  const { manifest, fingerprint, key: Y } = election;
  const plan = checkVote(manifest, vote);
  const X = key.X;
  const answers = manifest.questions.map((q, qi) => {
    const { plaintexts, blank } = plan[qi];
    const rs = plaintexts.map(() => draw());
    const choices = plaintexts.map((m, a) => encrypt(Y, m, rs[a]));
    const allowedChoices = choiceAllowed(valueBound(q));
    const choiceProofs = choices.map((ct, a) =>
      proveDisjunctive(choicePrefix(fingerprint, Y, X, qi, a, ct), Y, [ct], allowedChoices, plaintexts[a], [rs[a]], draw),
    );
    if (isMixed(q)) {
      // Ranked and graded questions: a range proof per answer and no count proof (spec §6.4).
      if (kept !== null) kept.push({ choices: [...rs] });
      rs.fill(0n);
      plaintexts.fill(0);
      return { choices, choice_proofs: choiceProofs };
    }
    let blankCt;
    let witness = [mod(rs.reduce((s, r) => s + r, 0n))];
    if (q.blank) {
      const rb = draw();
      blankCt = encrypt(Y, blank, rb);
      witness = [rb, witness[0]];
    }
    const allowed = countAllowed(q);
    const selected = plaintexts.reduce((s, m) => s + m, 0);
    const real = q.blank ? (blank ? 0 : 1 + selected - q.min) : selected - q.min;
    const statement = countStatement(q, choices, blankCt);
    const prefix = countPrefix(fingerprint, Y, X, qi, q, choices, blankCt);
    const countProof = proveDisjunctive(prefix, Y, statement, allowed, real, witness, draw);
    if (kept !== null) kept.push(q.blank ? { choices: [...rs], blank: witness[0] } : { choices: [...rs] });
    rs.fill(0n);
    const answer = { choices, choice_proofs: choiceProofs };
    if (q.blank) answer.blank = blankCt;
    answer.count_proof = countProof;
    return answer;
  });
  const ballot = { format: BALLOT_FORMAT, election: fingerprint, credential: X, answers };
  ballot.signature = proveSchnorr(signaturePrefix(ballot), key.x, draw);
  return { ballot, json: ballotToJson(ballot), tracker: toBase64Url(ballotTracker(ballot)) };
}

/** The ballot's body items (spec §7.2, `Ballot::body_items`), appended to `h`. */
export function hashBallotBody(h, ballot) {
  h.str(BALLOT_FORMAT).bytes(ballot.election).point(ballot.credential).len(ballot.answers.length);
  for (const ans of ballot.answers) {
    h.len(ans.choices.length);
    for (const c of ans.choices) h.point(c.alpha).point(c.beta);
    h.len(ans.choice_proofs.length);
    for (const p of ans.choice_proofs) hashDisjunctive(h, p);
    if (ans.blank !== undefined) h.u64(1).point(ans.blank.alpha).point(ans.blank.beta);
    else h.u64(0);
    // Present exactly for plurality questions (spec §7.2): nothing for a mixed question.
    if (ans.count_proof !== undefined) hashDisjunctive(h, ans.count_proof);
  }
  return h;
}

/** The signature's prefix (spec §7.3): tag, fingerprint, X, then the body items. */
export function signaturePrefix(ballot) {
  const h = new ItemHasher(TAGS.BALLOT_SIGNATURE).bytes(ballot.election).point(ballot.credential);
  return hashBallotBody(h, ballot);
}

/** The tracker (spec §7.4): H₃₂(TRACKER; body items, R, s), 32 bytes. */
export function ballotTracker(ballot) {
  const h = hashBallotBody(new ItemHasher(TAGS.TRACKER), ballot);
  return h.point(ballot.signature.r).scalar(ballot.signature.s).digest32();
}

/** The ballot's canonical JSON value (fields in the order of spec §7.1). */
export function encodeBallot(ballot) {
  return {
    format: BALLOT_FORMAT,
    election: toBase64Url(ballot.election),
    credential: encodePoint(ballot.credential),
    answers: ballot.answers.map((ans) => {
      const out = {
        choices: ans.choices.map(encodeCiphertext),
        choice_proofs: ans.choice_proofs.map(encodeDisjunctive),
      };
      if (ans.blank !== undefined) out.blank = encodeCiphertext(ans.blank);
      if (ans.count_proof !== undefined) out.count_proof = encodeDisjunctive(ans.count_proof);
      return out;
    }),
    signature: encodeSchnorr(ballot.signature),
  };
}

/** The ballot's canonical JSON text (compact). */
export function ballotToJson(ballot) {
  return JSON.stringify(encodeBallot(ballot));
}

const answer = (v, p) =>
  object(v, p, {
    choices: [(x, q) => array(x, q, decodeCiphertext), true],
    choice_proofs: [(x, q) => array(x, q, decodeDisjunctive), true],
    blank: [decodeCiphertext, false],
    count_proof: [decodeDisjunctive, false],
  });

/**
 * Parses a ballot (spec §7.1) from JSON text or a parsed JSON value. Throws `parse` with the
 * path of the offending field (unknown or missing fields, `null`, bad encodings, uneven proof
 * branches, an unknown `format`).
 */
export function parseBallot(input) {
  try {
    const value = typeof input === 'string' ? parseStrictJson(input, 'parse') : input;
    return object(value, '', {
      format: [oneOf(BALLOT_FORMAT), true],
      election: [decodeDigest, true],
      credential: [decodePoint, true],
      answers: [(x, p) => array(x, p, answer), true],
      signature: [decodeSchnorr, true],
    });
  } catch (e) {
    throw e instanceof UrneError && e.kind === 'parse' ? e : rewrap(e, 'parse');
  }
}

/**
 * Verifies a ballot for `election` (from `loadElection`): its JSON text, its parsed JSON value,
 * or a ballot as `createBallot`/`parseBallot` return it. It checks as a server does before accepting it
 * and as the booth does before sending it: parse (V-5), V-6 (its election is this one), V-5 (its
 * shape fits the manifest, its credential is not the identity), then each question in order, its
 * choice proofs (V-9) and then its count proof (V-10), and finally the signature (V-8) — the
 * reference implementation's order, so the first failure names the same check and path. Throws
 * UrneError with the check id as `kind` (`parse` for a ballot that does not parse) and `path`.
 * Returns `{ballot, tracker}`, the tracker in base64url.
 */
export function verifyBallot(election, input) {
  const { manifest, fingerprint, key: Y } = election;
  const decoded = typeof input === 'object' && input !== null && typeof input.credential?.toBytes === 'function';
  const ballot = decoded ? input : parseBallot(input);
  const fail = (check, path, msg, cause) => new UrneError(check, msg, { path, cause });
  if (!bytesEqual(ballot.election, fingerprint)) throw fail('V-6', 'election', 'is not this election');
  const X = ballot.credential;
  if (X.is0()) throw fail('V-5', 'credential', 'the identity is not a credential');
  if (ballot.answers.length !== manifest.questions.length) {
    throw fail('V-5', 'answers', `${ballot.answers.length} answers for ${manifest.questions.length} questions`);
  }
  manifest.questions.forEach((q, qi) => {
    const ans = ballot.answers[qi];
    const n = q.answers.length;
    if (ans.choices.length !== n) throw fail('V-5', `answers[${qi}].choices`, `expected ${n}`);
    if (ans.choice_proofs.length !== n) throw fail('V-5', `answers[${qi}].choice_proofs`, `expected ${n}`);
    if ((ans.blank !== undefined) !== q.blank) {
      throw fail('V-5', `answers[${qi}].blank`, q.blank ? 'missing' : 'not allowed by the question');
    }
    if ((ans.count_proof !== undefined) === isMixed(q)) {
      const what = isMixed(q) ? `present: a question counted by ${q.counting} has none` : 'missing: a plurality question has one';
      throw fail('V-5', `answers[${qi}].count_proof`, what);
    }
  });
  manifest.questions.forEach((q, qi) => {
    const ans = ballot.answers[qi];
    const allowedChoices = choiceAllowed(valueBound(q));
    ans.choices.forEach((ct, a) => {
      try {
        verifyDisjunctive(choicePrefix(fingerprint, Y, X, qi, a, ct), Y, [ct], allowedChoices, ans.choice_proofs[a]);
      } catch (e) {
        throw fail('V-9', `answers[${qi}].choice_proofs[${a}]`, `choice proof: ${e.message}`, e);
      }
    });
    if (isMixed(q)) return;
    try {
      const statement = countStatement(q, ans.choices, ans.blank);
      const prefix = countPrefix(fingerprint, Y, X, qi, q, ans.choices, ans.blank);
      verifyDisjunctive(prefix, Y, statement, countAllowed(q), ans.count_proof);
    } catch (e) {
      throw fail('V-10', `answers[${qi}].count_proof`, `count proof: ${e.message}`, e);
    }
  });
  try {
    verifySchnorr(signaturePrefix(ballot), X, ballot.signature);
  } catch (e) {
    throw fail('V-8', 'signature', 'the signature does not verify', e);
  }
  return { ballot, tracker: toBase64Url(ballotTracker(ballot)) };
}

// ---------------------------------------------------------------------------------------------
// Opened ballots (spec §7.5, informative): the Benaloh audit.

/** The format of an opened ballot (spec §7.5). */
export const OPENED_BALLOT_FORMAT = 'urne/opened-ballot/v1';

/**
 * An opened ballot's JSON value: `{format, election_id, election, tracker, ballot, vote,
 * randomness}`. `vote` is the voter's claimed choices (as `createBallot` takes them), and
 * `randomness[q]` is `{choices: [r per answer], blank?: r}`, scalars in base64url.
 */
export function encodeOpenedBallot(election, made, vote, randomness) {
  return {
    format: OPENED_BALLOT_FORMAT,
    election_id: election.manifest.id,
    election: toBase64Url(election.fingerprint),
    tracker: made.tracker,
    ballot: encodeBallot(made.ballot),
    vote: vote.map(encodeQuestionVote),
    randomness: randomness.map((r) => {
      const out = { choices: r.choices.map(encodeScalar) };
      if (r.blank !== undefined) out.blank = encodeScalar(r.blank);
      return out;
    }),
  };
}

/** One question's vote as an opened ballot writes it: its own fields only, copied. */
function encodeQuestionVote(v) {
  if (v.blank === true) return { blank: true };
  if (Array.isArray(v.ranks)) return { ranks: [...v.ranks] };
  if (Array.isArray(v.grades)) return { grades: [...v.grades] };
  return { selected: [...v.selected] };
}

const openedRandomness = (v, p) =>
  object(v, p, {
    choices: [(x, q) => array(x, q, decodeScalar), true],
    blank: [decodeScalar, false],
  });

/**
 * Parses an opened ballot (JSON text or value). Throws `parse` with the offending field's path.
 * `vote` is kept as it is written; `checkOpenedBallot` checks it against the manifest.
 */
export function parseOpenedBallot(input) {
  try {
    const value = typeof input === 'string' ? parseStrictJson(input, 'parse') : input;
    return object(value, '', {
      format: [oneOf(OPENED_BALLOT_FORMAT), true],
      election_id: [string, true],
      election: [decodeDigest, true],
      tracker: [string, true],
      ballot: [(x) => inBallot(() => parseBallot(x)), true],
      vote: [(x, p) => array(x, p, (y) => y), true],
      randomness: [(x, p) => array(x, p, openedRandomness), true],
    });
  } catch (e) {
    throw e instanceof UrneError && e.kind === 'parse' ? e : rewrap(e, 'parse');
  }
}

/** Runs `f`, naming the opened ballot's `ballot` field in the path of an error it throws. */
function inBallot(f) {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof UrneError)) throw e;
    const path = e.path === undefined || e.path === '.' || e.path === '' ? 'ballot' : `ballot.${e.path}`;
    throw new UrneError(e.kind, e.detail, { path, cause: e.cause });
  }
}

/**
 * Checks an opened ballot against `election` (from `loadElection`, from the manifest the checker
 * fetched itself). Throws UrneError when the document cannot be checked: `parse`, the ballot's own
 * checks (`V-5`, `V-6` for another election, `V-8`…`V-10`), `vote` for claimed choices the
 * manifest does not allow, `opening` for a randomness list of the wrong shape or a tracker
 * that is not the ballot's. Otherwise returns `{ok, tracker, answers}`: `answers` lists, per
 * question `question` and answer `answer` (`'blank'` for the blank flag), the claimed plaintext
 * `m` and whether (r·G, r·Y + m·G) equals the ballot's ciphertext (`ok`); `ok` is true when every
 * one does.
 */
export function checkOpenedBallot(election, input) {
  const opened = input?.format === OPENED_BALLOT_FORMAT && input.election instanceof Uint8Array ? input : parseOpenedBallot(input);
  const { manifest, fingerprint, key: Y } = election;
  if (!bytesEqual(opened.election, fingerprint)) {
    throw new UrneError('V-6', 'the opened ballot names another election', { path: 'election' });
  }
  const { ballot, tracker } = inBallot(() => verifyBallot(election, opened.ballot));
  if (tracker !== opened.tracker) throw new UrneError('opening', "is not the ballot's tracker", { path: 'tracker' });
  const plan = checkVote(manifest, opened.vote);
  if (opened.randomness.length !== manifest.questions.length) {
    throw new UrneError('opening', `expected ${manifest.questions.length} entries`, { path: 'randomness' });
  }
  const answers = [];
  const same = (a, b) => a.alpha.equals(b.alpha) && a.beta.equals(b.beta);
  manifest.questions.forEach((q, qi) => {
    const r = opened.randomness[qi];
    const path = `randomness[${qi}]`;
    if (r.choices.length !== q.answers.length) {
      throw new UrneError('opening', `expected ${q.answers.length} values`, { path: `${path}.choices` });
    }
    if ((r.blank !== undefined) !== q.blank) {
      throw new UrneError('opening', q.blank ? 'missing' : 'not allowed by the question', { path: `${path}.blank` });
    }
    const ans = ballot.answers[qi];
    plan[qi].plaintexts.forEach((m, a) => {
      answers.push({ question: qi, answer: a, m, ok: same(encrypt(Y, m, r.choices[a]), ans.choices[a]) });
    });
    if (q.blank) {
      const m = plan[qi].blank;
      answers.push({ question: qi, answer: 'blank', m, ok: same(encrypt(Y, m, r.blank), ans.blank) });
    }
  });
  return { ok: answers.every((x) => x.ok), tracker, answers };
}
