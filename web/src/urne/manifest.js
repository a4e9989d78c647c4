// The election manifest (spec §4): strict parsing, the validation rules of §4.2, the canonical
// items and fingerprint of §4.3, and V-3 (the trustees' key proofs, spec §8.1).

import { IDENTITY, decodePoint, toBase64Url } from './encoding.js';
import { UrneError, rewrap } from './errors.js';
import { ItemHasher, TAGS } from './hash.js';
import { array, boolean, object, oneOf, parseStrictJson, string, unsigned } from './json.js';
import { decodeSchnorr, keyProofPrefix, verifySchnorr } from './proofs.js';

/** The limits of spec §4.2. */
export const LIMITS = Object.freeze({
  MAX_ID_LEN: 64,
  MAX_QUESTIONS: 256,
  MAX_ANSWERS: 256,
  MAX_TRUSTEES: 64,
  MAX_TEXT_LEN: 4096,
  MAX_DESCRIPTION_LEN: 65536,
  MAX_MIXED_ANSWERS: 64,
  MAX_GRADES: 16,
});

/** The ways a question is counted (spec §4.1); all but plurality are *mixed*. */
export const COUNTINGS = Object.freeze(['plurality', 'schulze', 'stv', 'majority_judgment']);

/** Whether a question's ballots are shuffled and decrypted one by one (all but plurality). */
export function isMixed(question) {
  return question.counting !== 'plurality';
}

/** Whether the voter ranks the question's answers (Schulze, STV). */
export function isRanking(question) {
  return question.counting === 'schulze' || question.counting === 'stv';
}

/** Whether the voter grades every answer (majority judgment). */
export function isGrading(question) {
  return question.counting === 'majority_judgment';
}

/**
 * The question's value bound B (spec §6.3): each answer's ciphertext holds 0 … B. 1 for
 * plurality, `max` for a ranking (0 = not ranked), g − 1 for g grades (0 = the worst).
 */
export function valueBound(question) {
  if (isRanking(question)) return question.max;
  if (isGrading(question)) return Math.max(0, (question.grades?.length ?? 0) - 1);
  return 1;
}

const u32 = unsigned(32);
const utf8 = new TextEncoder();

/**
 * A timestamp of spec §2.8: exactly `YYYY-MM-DDTHH:MM:SSZ`, a valid date and time of RFC 3339,
 * years 0001 to 9999, no leap second.
 */
export function decodeTimestamp(value, path) {
  const s = string(value, path);
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(s);
  const bad = () => new UrneError('type', 'must be written in UTC as YYYY-MM-DDTHH:MM:SSZ', { path });
  if (!m) throw bad();
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days) throw bad();
  if (hour > 23 || minute > 59 || second > 59) throw bad();
  return s;
}

const question = (v, p) =>
  object(v, p, {
    text: [string, true],
    answers: [(x, q) => array(x, q, string), true],
    min: [u32, true],
    max: [u32, true],
    blank: [boolean, true],
    counting: [oneOf(...COUNTINGS), true],
    seats: [u32, false],
    grades: [(x, q) => array(x, q, string), false],
  });

const trustee = (v, p) =>
  object(v, p, {
    name: [string, true],
    public_key: [decodePoint, true],
    key_proof: [decodeSchnorr, true],
  });

/**
 * Parses a manifest (spec §4.1) from JSON text, or from an already parsed JSON value, and
 * validates it (§4.2). Throws `format` if it does not parse, `rule` if it breaks a rule, with the
 * field's path. The result holds decoded values: points for keys, bigints for scalars, and
 * `key_sharing` set to "independent" when absent. Key proofs are checked by `verifyTrusteeKeys`.
 */
export function parseManifest(input) {
  let m;
  try {
    const value = typeof input === 'string' ? parseStrictJson(input, 'format') : input;
    m = object(value, '', {
      format: [oneOf('urne/manifest/v1'), true],
      id: [string, true],
      title: [string, true],
      description: [string, true],
      questions: [(x, p) => array(x, p, question), true],
      weights: [oneOf('equal', 'weighted'), true],
      revote: [oneOf('last_counts', 'forbidden'), true],
      opens_at: [decodeTimestamp, true],
      closes_at: [decodeTimestamp, true],
      trustees: [(x, p) => array(x, p, trustee), true],
      threshold: [u32, true],
      key_sharing: [oneOf('independent', 'threshold'), false],
      public_key: [decodePoint, true],
      board_key: [decodePoint, false],
    });
  } catch (e) {
    throw e instanceof UrneError && e.kind === 'format' ? e : rewrap(e, 'format');
  }
  m.key_sharing ??= 'independent';
  validateManifest(m);
  return m;
}

/** Whether a string holds a character that is not Unicode White_Space (Rust's `trim`). */
const NOT_WHITE_SPACE = /[^\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

function checkText(path, s, max, emptyOk) {
  if (!emptyOk && !NOT_WHITE_SPACE.test(s)) throw rule(path, 'must not be empty');
  if (utf8.encode(s).length > max) throw rule(path, `longer than ${max} bytes`);
}

function rule(path, msg) {
  return new UrneError('rule', msg, { path });
}

/** The rules that depend on how question `qi` is counted (spec §4.2, rules 4.7 to 4.10). */
function checkCounting(qi, q) {
  const p = (f) => `questions[${qi}].${f}`;
  const name = q.counting;
  if (name === 'stv') {
    if (q.seats === undefined) throw rule(p('seats'), 'is required with counting "stv"');
    if (q.seats === 0 || q.seats >= q.answers.length) {
      throw rule(p('seats'), `must be between 1 and one less than the number of answers (${q.answers.length})`);
    }
  } else if (q.seats !== undefined) {
    throw rule(p('seats'), `is only for counting "stv", not "${name}"`);
  }
  if (name === 'majority_judgment') {
    if (q.grades === undefined) throw rule(p('grades'), 'is required with counting "majority_judgment"');
    if (q.grades.length < 2 || q.grades.length > LIMITS.MAX_GRADES) {
      throw rule(p('grades'), `must hold 2 to ${LIMITS.MAX_GRADES} grades`);
    }
    const seen = new Set();
    q.grades.forEach((g, gi) => {
      checkText(p(`grades[${gi}]`), g, LIMITS.MAX_TEXT_LEN, false);
      if (seen.has(g)) throw rule(p(`grades[${gi}]`), 'repeats an earlier grade');
      seen.add(g);
    });
  } else if (q.grades !== undefined) {
    throw rule(p('grades'), `is only for counting "majority_judgment", not "${name}"`);
  }
  if (!isMixed(q)) return;
  if (q.answers.length > LIMITS.MAX_MIXED_ANSWERS) {
    throw rule(p('answers'), `must hold at most ${LIMITS.MAX_MIXED_ANSWERS} answers with counting "${name}"`);
  }
  if (q.blank) {
    throw rule(p('blank'), `must be false with counting "${name}" (a voter abstains by ranking nothing, where min is 0)`);
  }
  const n = q.answers.length;
  if (name === 'majority_judgment' && (q.min !== n || q.max !== n)) {
    throw rule(p('min'), `min and max must both be the number of answers (${n}): every answer is graded`);
  }
}

/** The rules of spec §4.2, in their order (urne-core's `Manifest::validate`). */
export function validateManifest(m) {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(m.id)) {
    throw rule('id', 'must be 1 to 64 characters among A-Z a-z 0-9 . _ -');
  }
  checkText('title', m.title, LIMITS.MAX_TEXT_LEN, false);
  checkText('description', m.description, LIMITS.MAX_DESCRIPTION_LEN, true);
  if (m.questions.length === 0 || m.questions.length > LIMITS.MAX_QUESTIONS) {
    throw rule('questions', `must hold 1 to ${LIMITS.MAX_QUESTIONS} questions`);
  }
  m.questions.forEach((q, qi) => {
    const p = (f) => `questions[${qi}].${f}`;
    checkText(p('text'), q.text, LIMITS.MAX_TEXT_LEN, false);
    if (q.answers.length === 0 || q.answers.length > LIMITS.MAX_ANSWERS) {
      throw rule(p('answers'), `must hold 1 to ${LIMITS.MAX_ANSWERS} answers`);
    }
    const seen = new Set();
    q.answers.forEach((a, ai) => {
      const path = `questions[${qi}].answers[${ai}]`;
      checkText(path, a, LIMITS.MAX_TEXT_LEN, false);
      if (seen.has(a)) throw rule(path, 'repeats an earlier answer');
      seen.add(a);
    });
    if (q.max === 0 || q.max > q.answers.length) {
      throw rule(p('max'), `must be between 1 and the number of answers (${q.answers.length})`);
    }
    if (q.min > q.max) throw rule(p('min'), `must not exceed max (${q.max})`);
    if (q.blank && q.min === 0) throw rule(p('blank'), 'a blank vote needs min ≥ 1');
    checkCounting(qi, q);
  });
  const mixed = m.questions.findIndex(isMixed);
  if (m.weights === 'weighted' && mixed >= 0) {
    throw rule(
      'weights',
      `must be "equal": question ${mixed} is counted by ${m.questions[mixed].counting}, whose ballots are shuffled, and a shuffled ballot can carry no weight`,
    );
  }
  if (m.opens_at >= m.closes_at) throw rule('closes_at', `must be after opens_at (${m.opens_at})`);
  if (m.trustees.length === 0 || m.trustees.length > LIMITS.MAX_TRUSTEES) {
    throw rule('trustees', `must hold 1 to ${LIMITS.MAX_TRUSTEES} trustees`);
  }
  const names = new Set();
  const keys = new Set();
  m.trustees.forEach((t, i) => {
    checkText(`trustees[${i}].name`, t.name, LIMITS.MAX_TEXT_LEN, false);
    if (names.has(t.name)) throw rule(`trustees[${i}].name`, "repeats an earlier trustee's name");
    names.add(t.name);
    if (t.public_key.is0()) throw rule(`trustees[${i}].public_key`, 'must not be the identity');
    const key = toBase64Url(t.public_key.toBytes());
    if (keys.has(key)) throw rule(`trustees[${i}].public_key`, "repeats an earlier trustee's key");
    keys.add(key);
  });
  if (m.key_sharing === 'threshold') {
    if (m.threshold === 0 || m.threshold > m.trustees.length) {
      throw rule('threshold', 'must be between 1 and the number of trustees');
    }
  } else if (m.threshold !== m.trustees.length) {
    throw rule('threshold', 'with independent trustee keys, must equal the number of trustees');
  }
  if (m.public_key.is0()) throw rule('public_key', 'must not be the identity');
  if (m.board_key !== undefined && m.board_key.is0()) throw rule('board_key', 'must not be the identity');
}

/** The manifest's canonical items (spec §4.3), appended to `h`. */
export function hashManifest(h, m) {
  h.str('urne/manifest/v1').str(m.id).str(m.title).str(m.description).len(m.questions.length);
  for (const q of m.questions) {
    h.str(q.text).len(q.answers.length);
    for (const a of q.answers) h.str(a);
    h.u64(q.min).u64(q.max).u64(q.blank).str(q.counting);
    if (q.seats !== undefined) h.str('seats').u64(q.seats);
    if (q.grades !== undefined) {
      h.str('grades').len(q.grades.length);
      for (const g of q.grades) h.str(g);
    }
  }
  h.str(m.weights).str(m.revote).str(m.opens_at).str(m.closes_at).len(m.trustees.length);
  for (const t of m.trustees) {
    h.str(t.name).point(t.public_key).point(t.key_proof.r).scalar(t.key_proof.s);
  }
  h.u64(m.threshold).point(m.public_key);
  if (m.key_sharing === 'threshold') h.str('key_sharing').str('threshold');
  if (m.board_key !== undefined) h.str('board_key').point(m.board_key);
  return h;
}

/** The election fingerprint: H₃₂(MANIFEST; manifest items), 32 bytes (spec §4.3). */
export function manifestFingerprint(m) {
  return hashManifest(new ItemHasher(TAGS.MANIFEST), m).digest32();
}

/**
 * V-3: every trustee's key proof verifies (spec §8.1) and, with independent keys, the election
 * key is the sum of the trustees' keys. Throws `V-3` at `trustees[i].key_proof` or `public_key`.
 * Under threshold sharing the key comes from the ceremony, which only a verifier of the whole
 * record can judge; the booth then takes the manifest's key as sealed on the board.
 */
export function verifyTrusteeKeys(m) {
  let sum = IDENTITY;
  m.trustees.forEach((t, i) => {
    try {
      verifySchnorr(keyProofPrefix(m.id, i + 1, t.name, t.public_key), t.public_key, t.key_proof);
    } catch (e) {
      throw new UrneError('V-3', 'the key proof does not verify', {
        path: `trustees[${i}].key_proof`,
        cause: e,
      });
    }
    sum = sum.add(t.public_key);
  });
  if (m.key_sharing === 'independent' && !sum.equals(m.public_key)) {
    throw new UrneError('V-3', "is not the sum of the trustees' public keys", { path: 'public_key' });
  }
}

/**
 * An election as the booth uses it: the manifest parsed, validated and its trustee keys checked
 * (V-2, V-3), with its fingerprint. `input` is the manifest's JSON text or parsed value.
 */
export function loadElection(input) {
  const manifest = parseManifest(input);
  verifyTrusteeKeys(manifest);
  // Y is multiplied by every encryption and proof: a precomputed table (cached by @noble/curves
  // for this point) makes those multiplications several times faster.
  manifest.public_key.precompute(8);
  return { manifest, fingerprint: manifestFingerprint(manifest), key: manifest.public_key };
}
