// The words of the mixed questions' results (Schulze, STV, majority judgment) on the election's
// page, in English and French. Kept apart from words.js, and in the same language as it:
// `tm(key, ...args)` follows words.js's `language()`.

import { language } from './words.js';

const en = {
  methods: {
    schulze: 'Ranked ballots, counted by the Condorcet–Schulze method (winning votes).',
    stv: (seats) => `Ranked ballots, counted by the single transferable vote for ${seats} seat${seats === 1 ? '' : 's'} (Droop quota, weighted inclusive Gregory method, exact fractions).`,
    majority_judgment: 'Every candidate graded by every voter, counted by majority judgment.',
  },
  unknownMethod: (m) => `This result is counted by “${m}”, which this page cannot show yet; the election record holds it.`,
  unreadable: (why) => `This result cannot be shown: ${why}. The election record holds it; check it with the verifier.`,
  noBallots: 'No ballot was counted for this question.',
  ballots: 'Ballots decrypted after the shuffle',
  invalid: 'Invalid ballots set aside',
  counted: 'Ballots counted',
  valid: 'Ballots ranking at least one candidate',
  quota: 'Quota (Droop)',
  seats: 'Seats',
  noRanking: 'not ranked',
  // Schulze
  winnerHeading: (k) => (k > 1 ? 'Winners (a tie)' : 'Winner'),
  winnerText: (names) => `No other candidate beats ${names} (by strongest paths).`,
  tieText: 'The candidates tied for first place are ordered below by their order on the ballot paper.',
  rankingHeading: 'Ranking',
  rankingHow: 'A candidate beats another when their strongest path to them is stronger than the reverse (see the tables below). Each candidate is placed above those they beat; where neither beats the other, the order of the ballot paper decides.',
  beatsNext: (a, b, x, y) => `beats ${b}: strongest path ${x} against ${y}`,
  tiedNext: (a, b, x) => `does not beat ${b} (strongest paths ${x} both ways): placed first by the ballot paper's order`,
  pairwiseHeading: 'Head-to-head comparisons',
  pairwiseHow: 'Each cell gives the number of voters who ranked the row’s candidate above the column’s; under it, the margin: that number minus the reverse. The row wins the duel when the margin is positive.',
  pairwiseCaption: 'Voters preferring the row’s candidate to the column’s',
  margin: 'margin',
  same: 'same candidate',
  legendHeading: 'Shading of the cells (by margin, as a share of the ballots counted)',
  legend: {
    w3: (p) => `row wins by ${p} or more`,
    w2: (p, q) => `row wins by ${p} to ${q}`,
    w1: (p) => `row wins by less than ${p}`,
    t: () => 'tie (margin 0)',
    l1: (p) => `row loses by less than ${p}`,
    l2: (p, q) => `row loses by ${p} to ${q}`,
    l3: (p) => `row loses by ${p} or more`,
  },
  pathsHeading: 'Strongest paths',
  pathsHow: 'The strength of a path from one candidate to another, through others, is its weakest duel won (by the voters for the winner of that duel). Each cell gives the strongest path from the row’s candidate to the column’s; marked “beats” when it is stronger than the path back.',
  pathsCaption: 'Strength of the strongest path from the row’s candidate to the column’s',
  beats: 'beats',
  rowCandidate: 'Candidate',
  // STV
  electedHeading: 'Elected, in order',
  electedAt: (r, quota) => (quota ? `round ${r}, reached the quota` : `round ${r}, without the quota (as many candidates left as seats)`),
  roundsHeading: 'Rounds of the count',
  roundsHow: 'Each round, a bar per candidate still in the count gives their votes at the end of the round; the line marks the quota. Exact fractions come with their decimal, rounded to two places.',
  chartTitle: (q) => `Votes per candidate and round: ${q}`,
  roundLabel: (r) => `Round ${r}`,
  quotaLabel: (q) => `quota ${q}`,
  electedMark: '✓ elected',
  electedBefore: '(elected earlier)',
  excludedMark: '✗ excluded',
  actions: {
    first_preferences: 'first preferences counted.',
    surplus: (name, s, tv) => `${name}’s surplus of ${s} passed on: each of their ballots to its next choice at ${tv} of its value.`,
    exclusion: (name) => `${name} excluded (fewest votes); their ballots passed on to their next choices at their value.`,
  },
  tieBreak: {
    earlier_round: (r) => ` A tie was broken by the votes of round ${r}.`,
    candidate_order: ' A tie, equal in every round, was broken by the ballot paper’s order.',
  },
  roundElected: (names) => ` Elected: ${names}.`,
  tableCaption: 'Votes at the end of each round; under them, the change in that round',
  exhausted: 'Exhausted (no further choice)',
  change: 'change',
  electedWord: 'elected',
  excludedWord: 'excluded',
  // Majority judgment
  mjRankingHeading: 'Ranking and majority grades',
  mjHow: 'Each bar shows how the voters graded a candidate, from the best grade on the left to the worst on the right. The majority grade is the grade where the bar crosses the 50 % line: at least half the voters gave that grade or better, and at least half gave it or worse. Candidates are ranked by majority grade; between equal majority grades, “+” (more voters above it than below) comes before “−”, and further ties are decided by removing one majority grade at a time.',
  mjChartTitle: (q) => `Merit profiles: ${q}`,
  mjGradeText: (grade, sign) => `majority grade: ${grade} ${sign}`,
  mjDescRow: (place, name, grade, sign, parts) => `${place}. ${name}, majority grade ${grade} ${sign}: ${parts}`,
  mjPart: (grade, n, p) => `${grade} ${n} (${p})`,
  median: '50 %',
  legendGrades: 'Grades, best first',
  place: 'Place',
  majorityGrade: 'Majority grade',
  above: 'Voters above it',
  below: 'Voters below it',
  countsCaption: 'Number of voters giving each grade',
  winnerMj: (names, k) => (k > 1 ? `Winners (equal merit profiles): ${names}.` : `Winner: ${names}.`),
  tiedPlace: '(tied)',
};

const fr = {
  methods: {
    schulze: 'Bulletins classant les candidats, dépouillés par la méthode de Condorcet–Schulze (voix gagnantes).',
    stv: (seats) => `Bulletins classant les candidats, dépouillés au vote unique transférable pour ${seats} siège${seats === 1 ? '' : 's'} (quota de Droop, méthode de Gregory inclusive pondérée, fractions exactes).`,
    majority_judgment: 'Chaque candidat évalué par chaque électeur, dépouillé au jugement majoritaire.',
  },
  unknownMethod: (m) => `Ce résultat est dépouillé par « ${m} », que cette page ne sait pas encore montrer ; le registre de l’élection le contient.`,
  unreadable: (why) => `Ce résultat ne peut pas être affiché : ${why}. Le registre de l’élection le contient ; vérifiez-le avec le vérificateur.`,
  noBallots: 'Aucun bulletin n’a été compté pour cette question.',
  ballots: 'Bulletins déchiffrés après le mélange',
  invalid: 'Bulletins invalides écartés',
  counted: 'Bulletins comptés',
  valid: 'Bulletins classant au moins un candidat',
  quota: 'Quota (Droop)',
  seats: 'Sièges',
  noRanking: 'non classé',
  winnerHeading: (k) => (k > 1 ? 'Vainqueurs (ex æquo)' : 'Vainqueur'),
  winnerText: (names) => `Aucun autre candidat ne bat ${names} (par les chemins les plus forts).`,
  tieText: 'Les candidats à égalité pour la première place sont ordonnés ci-dessous selon l’ordre du bulletin.',
  rankingHeading: 'Classement',
  rankingHow: 'Un candidat en bat un autre quand son chemin le plus fort vers lui est plus fort que le chemin inverse (voir les tableaux ci-dessous). Chaque candidat est classé devant ceux qu’il bat ; quand aucun des deux ne bat l’autre, l’ordre du bulletin décide.',
  beatsNext: (a, b, x, y) => `bat ${b} : chemin le plus fort ${x} contre ${y}`,
  tiedNext: (a, b, x) => `ne bat pas ${b} (chemins les plus forts de ${x} dans les deux sens) : placé avant selon l’ordre du bulletin`,
  pairwiseHeading: 'Duels entre candidats',
  pairwiseHow: 'Chaque case donne le nombre d’électeurs qui ont classé le candidat de la ligne devant celui de la colonne ; en dessous, l’écart : ce nombre moins l’inverse. La ligne gagne le duel quand l’écart est positif.',
  pairwiseCaption: 'Électeurs préférant le candidat de la ligne à celui de la colonne',
  margin: 'écart',
  same: 'même candidat',
  legendHeading: 'Teinte des cases (selon l’écart, en part des bulletins comptés)',
  legend: {
    w3: (p) => `la ligne gagne de ${p} ou plus`,
    w2: (p, q) => `la ligne gagne de ${p} à ${q}`,
    w1: (p) => `la ligne gagne de moins de ${p}`,
    t: () => 'égalité (écart nul)',
    l1: (p) => `la ligne perd de moins de ${p}`,
    l2: (p, q) => `la ligne perd de ${p} à ${q}`,
    l3: (p) => `la ligne perd de ${p} ou plus`,
  },
  pathsHeading: 'Chemins les plus forts',
  pathsHow: 'La force d’un chemin d’un candidat à un autre, en passant par d’autres, est celle de son duel gagné le plus faible (par les voix du gagnant de ce duel). Chaque case donne le chemin le plus fort du candidat de la ligne vers celui de la colonne ; marquée « bat » quand il est plus fort que le chemin retour.',
  pathsCaption: 'Force du chemin le plus fort du candidat de la ligne vers celui de la colonne',
  beats: 'bat',
  rowCandidate: 'Candidat',
  electedHeading: 'Élus, dans l’ordre',
  electedAt: (r, quota) => (quota ? `tour ${r}, quota atteint` : `tour ${r}, sans le quota (autant de candidats restants que de sièges)`),
  roundsHeading: 'Tours du dépouillement',
  roundsHow: 'À chaque tour, une barre par candidat encore en lice donne ses voix à la fin du tour ; la ligne marque le quota. Les fractions exactes sont suivies de leur valeur décimale, arrondie à deux chiffres.',
  chartTitle: (q) => `Voix par candidat et par tour : ${q}`,
  roundLabel: (r) => `Tour ${r}`,
  quotaLabel: (q) => `quota ${q}`,
  electedMark: '✓ élu',
  electedBefore: '(élu avant)',
  excludedMark: '✗ éliminé',
  actions: {
    first_preferences: 'premiers choix comptés.',
    surplus: (name, s, tv) => `excédent de ${name} (${s}) reporté : chacun de ses bulletins va à son choix suivant pour ${tv} de sa valeur.`,
    exclusion: (name) => `${name} éliminé (le moins de voix) ; ses bulletins vont à leur choix suivant, à leur valeur.`,
  },
  tieBreak: {
    earlier_round: (r) => ` Une égalité a été départagée par les voix du tour ${r}.`,
    candidate_order: ' Une égalité, à chaque tour, a été départagée par l’ordre du bulletin.',
  },
  roundElected: (names) => ` Élu : ${names}.`,
  tableCaption: 'Voix à la fin de chaque tour ; en dessous, la variation pendant ce tour',
  exhausted: 'Épuisées (plus de choix suivant)',
  change: 'variation',
  electedWord: 'élu',
  excludedWord: 'éliminé',
  mjRankingHeading: 'Classement et mentions majoritaires',
  mjHow: 'Chaque barre montre comment les électeurs ont évalué un candidat, de la meilleure mention à gauche à la pire à droite. La mention majoritaire est celle où la barre croise la ligne des 50 % : au moins la moitié des électeurs ont donné cette mention ou mieux, et au moins la moitié cette mention ou moins bien. Les candidats sont classés par mention majoritaire ; à mention égale, « + » (plus d’électeurs au-dessus qu’en dessous) passe devant « − », et les égalités restantes se tranchent en retirant une mention majoritaire à la fois.',
  mjChartTitle: (q) => `Profils de mérite : ${q}`,
  mjGradeText: (grade, sign) => `mention majoritaire : ${grade} ${sign}`,
  mjDescRow: (place, name, grade, sign, parts) => `${place}. ${name}, mention majoritaire ${grade} ${sign} : ${parts}`,
  mjPart: (grade, n, p) => `${grade} ${n} (${p})`,
  median: '50 %',
  legendGrades: 'Mentions, de la meilleure à la pire',
  place: 'Rang',
  majorityGrade: 'Mention majoritaire',
  above: 'Électeurs au-dessus',
  below: 'Électeurs en dessous',
  countsCaption: 'Nombre d’électeurs donnant chaque mention',
  winnerMj: (names, k) => (k > 1 ? `Vainqueurs (profils de mérite égaux) : ${names}.` : `Vainqueur : ${names}.`),
  tiedPlace: '(ex æquo)',
};

const words = { en, fr };

/** A word of the mixed results in the page's language (functions take `args`). */
export function tm(key, ...args) {
  const table = words[language()] ?? en;
  const v = table[key] ?? en[key] ?? key;
  return typeof v === 'function' ? v(...args) : v;
}

/** An entry of one of the tables (`methods`, `actions`, `legend`, `tieBreak`), applied to `args`. */
export function tmIn(table, key, ...args) {
  const v = tm(table)?.[key];
  if (v === undefined) return key;
  return typeof v === 'function' ? v(...args) : v;
}
