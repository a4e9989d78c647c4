// The ballot (spec §7): creation from a vote (encryption, choice and count proofs, signature),
// its canonical items, its tracker, its JSON form, and its verification (V-5, V-6, V-8, V-9,
// V-10; V-7, the credential's eligibility, is the server's and the verifier's).

import { bytesEqual, decodeDigest, decodePoint, encodePoint, mod, toBase64Url } from './encoding.js';
import { UrneError, rewrap } from './errors.js';
import { ItemHasher, TAGS } from './hash.js';
import { array, object, oneOf, parseStrictJson } from './json.js';
import {
  CHOICE_ALLOWED,
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
 * Checks a vote against the manifest before anything is encrypted (spec §7.1, "Creating a
 * ballot"). A vote has one entry per question: `{selected: [answer indices]}` or `{blank: true}`.
 * Throws `vote` at `[q]` for a missing or extra question, an answer index that does not exist or
 * appears twice, fewer than `min` or more than `max` selections, or a blank vote where the question
 * allows none. Returns, per question, the plaintexts of its choices and its blank flag.
 */
export function checkVote(manifest, vote) {
  const refuse = (path, msg) => new UrneError('vote', msg, { path });
  if (!Array.isArray(vote) || vote.length !== manifest.questions.length) {
    throw refuse('.', `the vote must answer each of the ${manifest.questions.length} questions once`);
  }
  return manifest.questions.map((q, qi) => {
    const v = vote[qi];
    const path = `[${qi}]`;
    const plaintexts = new Array(q.answers.length).fill(0);
    if (v && v.blank === true && v.selected === undefined) {
      if (!q.blank) throw refuse(path, 'this question allows no blank vote');
      return { plaintexts, blank: 1 };
    }
    if (!v || !Array.isArray(v.selected) || (v.blank !== undefined && v.blank !== false)) {
      throw refuse(path, 'expected {selected: [answer indices]} or {blank: true}');
    }
    for (const a of v.selected) {
      if (!Number.isInteger(a) || a < 0 || a >= q.answers.length) {
        throw refuse(path, `answer ${a} does not exist`);
      }
      if (plaintexts[a] === 1) throw refuse(path, `answer ${a} is selected twice`);
      plaintexts[a] = 1;
    }
    const n = v.selected.length;
    if (n < q.min || n > q.max) throw refuse(path, `select between ${q.min} and ${q.max} answers`);
    return { plaintexts, blank: 0 };
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
  const { manifest, fingerprint, key: Y } = election;
  const plan = checkVote(manifest, vote);
  const X = key.X;
  const answers = manifest.questions.map((q, qi) => {
    const { plaintexts, blank } = plan[qi];
    const rs = plaintexts.map(() => draw());
    const choices = plaintexts.map((m, a) => encrypt(Y, m, rs[a]));
    const choiceProofs = choices.map((ct, a) =>
      proveDisjunctive(choicePrefix(fingerprint, Y, X, qi, a, ct), Y, [ct], CHOICE_ALLOWED, plaintexts[a], [rs[a]], draw),
    );
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
    hashDisjunctive(h, ans.count_proof);
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
      out.count_proof = encodeDisjunctive(ans.count_proof);
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
    count_proof: [decodeDisjunctive, true],
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
  });
  manifest.questions.forEach((q, qi) => {
    const ans = ballot.answers[qi];
    ans.choices.forEach((ct, a) => {
      try {
        verifyDisjunctive(choicePrefix(fingerprint, Y, X, qi, a, ct), Y, [ct], CHOICE_ALLOWED, ans.choice_proofs[a]);
      } catch (e) {
        throw fail('V-9', `answers[${qi}].choice_proofs[${a}]`, `choice proof: ${e.message}`, e);
      }
    });
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
