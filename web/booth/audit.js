// The independent verification page of the booth's Benaloh audit (docs/booth.md, spec §7.5),
// served by `urne serve` at /audit. It shares nothing with the booth but the protocol modules
// (web/src/urne): the voter pastes or loads the opened ballot the booth showed, the page fetches
// the election's manifest from the API (or takes it pasted), and recomputes every ciphertext
// from the claimed choice and its randomness, (r·G, r·Y + m·G), after checking the ballot itself
// (its election's fingerprint, its proofs and signature). Nothing is sent anywhere but the
// manifest's request. The election's texts are set with DOM calls, never as HTML.

import { checkOpenedBallot, loadElection } from '../src/urne/index.js';

const en = {
  title: 'Check an opened ballot',
  skip: 'Skip to the check',
  switchTo: 'Français',
  switchLabel: 'Lire en français',
  intro:
    'The voting booth can open a test encryption of your choices: it shows the encrypted ballot together with the secret numbers used to make it. This page, which does not share anything with the booth, redoes the encryption of the choices it claims and says whether it gives the same ballot. If it does, the booth encrypts honestly what you choose.',
  openedLabel: 'Opened ballot',
  openedHint: 'Paste the document the booth showed you (it starts with {"format":"urne/opened-ballot/v1").',
  fileLabel: 'Or load the downloaded file',
  electionLabel: 'Election identifier',
  electionHint: 'Filled in from the document when left empty. The election’s description is fetched from this server.',
  manifestSummary: 'Use a manifest of your own instead',
  manifestLabel: 'Election manifest (JSON)',
  manifestHint: 'When you paste the manifest, for example from the election record, it is used in place of the server’s.',
  check: 'Check the opened ballot',
  checking: 'Checking…',
  result: 'Result',
  matches: (n) => `Matches: all ${n} encrypted answers are the encryptions of the choices below, and the ballot is a valid ballot of this election.`,
  mismatch: (n) => `Does not match: ${n} encrypted answer(s) are not the encryption of the choice claimed. Do not trust this booth; tell the organiser and the observers.`,
  cannot: (msg) => `Cannot be checked: ${msg}`,
  empty: 'Paste or load an opened ballot first.',
  noElection: 'No election identifier: type it in the field above.',
  fetchFailed: (status) => `The election could not be fetched (${status}).`,
  badFile: 'This file could not be read.',
  tracker: (t) => `Tracker of the audited ballot: ${t}. It must never appear on the bulletin board.`,
  fingerprint: (f) => `Election fingerprint: ${f}`,
  question: 'Question',
  answer: 'Answer',
  claimed: 'Claimed',
  outcome: 'Result',
  chosen: 'chosen',
  notChosen: 'not chosen',
  notRanked: 'not ranked',
  rank: (r) => `rank ${r}`,
  blank: 'Blank vote',
  ok: '✓ matches',
  bad: '✗ does not match',
};

const fr = {
  title: 'Vérifier un bulletin ouvert',
  skip: 'Aller à la vérification',
  switchTo: 'English',
  switchLabel: 'Read in English',
  intro:
    'L’isoloir peut ouvrir un chiffrement d’essai de vos choix : il montre le bulletin chiffré avec les nombres secrets qui ont servi à le faire. Cette page, qui ne partage rien avec l’isoloir, refait le chiffrement des choix annoncés et dit s’il donne le même bulletin. Si oui, l’isoloir chiffre honnêtement ce que vous choisissez.',
  openedLabel: 'Bulletin ouvert',
  openedHint: 'Collez le document que l’isoloir vous a montré (il commence par {"format":"urne/opened-ballot/v1").',
  fileLabel: 'Ou chargez le fichier téléchargé',
  electionLabel: 'Identifiant de l’élection',
  electionHint: 'Repris du document s’il est laissé vide. La description de l’élection est demandée à ce serveur.',
  manifestSummary: 'Utiliser plutôt votre propre manifeste',
  manifestLabel: 'Manifeste de l’élection (JSON)',
  manifestHint: 'Si vous collez le manifeste, par exemple tiré du registre de l’élection, il remplace celui du serveur.',
  check: 'Vérifier le bulletin ouvert',
  checking: 'Vérification…',
  result: 'Résultat',
  matches: (n) => `Correspond : les ${n} réponses chiffrées sont bien le chiffrement des choix ci-dessous, et le bulletin est un bulletin valide de cette élection.`,
  mismatch: (n) => `Ne correspond pas : ${n} réponse(s) chiffrée(s) ne sont pas le chiffrement du choix annoncé. Ne vous fiez pas à cet isoloir ; prévenez l’organisateur et les observateurs.`,
  cannot: (msg) => `Vérification impossible : ${msg}`,
  empty: 'Collez ou chargez d’abord un bulletin ouvert.',
  noElection: 'Aucun identifiant d’élection : saisissez-le dans le champ ci-dessus.',
  fetchFailed: (status) => `L’élection n’a pas pu être obtenue (${status}).`,
  badFile: 'Ce fichier n’a pas pu être lu.',
  tracker: (t) => `Traceur du bulletin audité : ${t}. Il ne doit jamais apparaître sur le tableau d’affichage.`,
  fingerprint: (f) => `Empreinte de l’élection : ${f}`,
  question: 'Question',
  answer: 'Réponse',
  claimed: 'Annoncé',
  outcome: 'Résultat',
  chosen: 'choisie',
  notChosen: 'non choisie',
  notRanked: 'non classée',
  rank: (r) => `rang ${r}`,
  blank: 'Vote blanc',
  ok: '✓ correspond',
  bad: '✗ ne correspond pas',
};

/** An answer's claimed value in words: chosen or not, its rank (0 = not ranked), or its grade. */
function claimed(q, m) {
  if (q.counting === 'schulze' || q.counting === 'stv') return m === 0 ? t('notRanked') : t('rank', m);
  // Grades are encrypted from the worst (0) to the best (g − 1); `grades` lists the best first.
  if (q.counting === 'majority_judgment') return q.grades[q.grades.length - 1 - m] ?? String(m);
  return m === 1 ? t('chosen') : t('notChosen');
}

const words = { en, fr };
let lang = [...(navigator.languages ?? [])].map((l) => String(l).toLowerCase().split('-')[0]).find((l) => l in words) ?? 'en';
let last = null; // the last result shown, rendered again in the other language

function t(key, ...args) {
  const v = words[lang][key] ?? en[key];
  return typeof v === 'function' ? v(...args) : v;
}

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function texts() {
  document.documentElement.lang = lang;
  document.title = `${t('title')} — urne`;
  const b = $('lang');
  b.textContent = t('switchTo');
  b.setAttribute('lang', lang === 'en' ? 'fr' : 'en');
  b.setAttribute('aria-label', t('switchLabel'));
  for (const [id, key] of [
    ['skip', 'skip'],
    ['heading', 'title'],
    ['intro', 'intro'],
    ['opened-label', 'openedLabel'],
    ['opened-hint', 'openedHint'],
    ['file-label', 'fileLabel'],
    ['election-label', 'electionLabel'],
    ['election-hint', 'electionHint'],
    ['manifest-summary', 'manifestSummary'],
    ['manifest-label', 'manifestLabel'],
    ['manifest-hint', 'manifestHint'],
    ['check', 'check'],
    ['result-heading', 'result'],
  ]) {
    $(id).textContent = t(key);
  }
  if (last) render(last);
}

/** Shows a result: `{error}` or `{manifest, result, fingerprint}`; moves the focus to it. */
function render(shown, focus = false) {
  last = shown;
  const verdict = $('verdict');
  const details = $('details');
  $('result').hidden = false;
  if (shown.error !== undefined) {
    verdict.className = 'verdict bad';
    verdict.dataset.ok = 'false';
    verdict.textContent = t('cannot', shown.error);
    details.replaceChildren();
  } else {
    const { manifest, result, fingerprint } = shown;
    const wrong = result.answers.filter((x) => !x.ok).length;
    verdict.className = result.ok ? 'verdict ok' : 'verdict bad';
    verdict.dataset.ok = String(result.ok);
    verdict.textContent = result.ok ? t('matches', result.answers.length) : t('mismatch', wrong);
    const rows = result.answers.map((x) => {
      const q = manifest.questions[x.question];
      const answer = x.answer === 'blank' ? t('blank') : q.answers[x.answer];
      return el(
        'tr',
        { 'data-ok': String(x.ok) },
        el('td', {}, `${x.question + 1}. ${q.text}`),
        el('td', {}, answer),
        el('td', {}, claimed(q, x.m)),
        el('td', { class: x.ok ? 'ok' : 'error' }, x.ok ? t('ok') : t('bad')),
      );
    });
    details.replaceChildren(
      el(
        'table',
        { class: 'results' },
        el('caption', {}, t('result')),
        el('thead', {}, el('tr', {}, ['question', 'answer', 'claimed', 'outcome'].map((k) => el('th', { scope: 'col' }, t(k))))),
        el('tbody', {}, rows),
      ),
      el('p', { class: 'tracker', id: 'audited-tracker' }, t('tracker', result.tracker)),
      el('p', { class: 'hint' }, t('fingerprint', fingerprint)),
    );
  }
  if (focus) $('result-heading').focus();
}

async function manifestFor(id) {
  const pasted = $('manifest').value.trim();
  if (pasted) return pasted;
  if (!id) throw new Error(t('noElection'));
  const answer = await fetch(`/api/v1/elections/${encodeURIComponent(id)}`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (!answer.ok) throw new Error(t('fetchFailed', answer.status));
  const view = await answer.json();
  return view.manifest;
}

async function check() {
  const button = $('check');
  const text = $('opened').value.trim();
  if (!text) {
    $('opened').setAttribute('aria-invalid', 'true');
    render({ error: t('empty') }, true);
    return;
  }
  $('opened').removeAttribute('aria-invalid');
  button.disabled = true;
  button.textContent = t('checking');
  try {
    let id = $('election').value.trim();
    if (!id) {
      try {
        id = JSON.parse(text).election_id ?? '';
      } catch {
        id = ''; // checkOpenedBallot says what is wrong with the text
      }
      if (typeof id === 'string' && id) $('election').value = id;
    }
    const election = loadElection(await manifestFor(id));
    const result = checkOpenedBallot(election, text);
    const fingerprint = JSON.parse(text).election;
    render({ manifest: election.manifest, result, fingerprint }, true);
  } catch (e) {
    render({ error: e.message ?? String(e) }, true);
  } finally {
    button.disabled = false;
    button.textContent = t('check');
  }
}

$('noscript').remove();
$('election').value = new URLSearchParams(location.search).get('election') ?? '';
$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  check();
});
$('file').addEventListener('change', async () => {
  const file = $('file').files?.[0];
  if (!file) return;
  try {
    $('opened').value = await file.text();
  } catch {
    render({ error: t('badFile') }, true);
  }
});
$('lang').addEventListener('click', () => {
  lang = lang === 'en' ? 'fr' : 'en';
  texts();
});
texts();
