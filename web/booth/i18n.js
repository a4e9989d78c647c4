// The booth's words, in English and French. `t(key, ...args)` gives the text in the current
// language; a function entry takes the arguments.

const en = {
  title: 'Voting booth',
  skip: 'Skip to the ballot',
  switchTo: 'Français',
  switchLabel: 'Lire en français',
  noScript: 'This booth needs JavaScript to encrypt your vote on your device.',
  loading: 'Loading the election…',
  notFound: 'This election does not exist, or its setup is not finished.',
  notOpen: (phase) => `Voting is not open (the election is ${phase}).`,
  badAddress: 'This address names no election.',
  network: 'The server cannot be reached. Check your connection and try again.',
  retry: 'Try again',
  credentialHeading: 'Your voting credential',
  credentialIntro: 'Type the credential from your voting letter. It stays on this device: it is never sent to the server.',
  credentialLabel: 'Credential',
  credentialHint: 'Groups of letters and digits, such as ABCDE-FGHJK-…; dashes and spaces do not matter.',
  credentialBad: (msg) => `This credential is not valid: ${msg}. Check it against your letter.`,
  next: 'Continue',
  loginHeading: 'Say who you are',
  loginIntro: 'This election asks each voter to log in before casting. We send a one-time code to the address the organiser has for you.',
  voterLabel: 'Your voter identifier',
  voterHint: 'As written in your voting letter (often your email address).',
  sendCode: 'Send me a code',
  codeHeading: 'Enter your code',
  codeIntro: (minutes) => `If your identifier is on the list of voters, a code of six digits is on its way to your mailbox. It is valid for ${minutes} minutes.`,
  codeLabel: 'Code',
  codeHint: 'Six digits.',
  logIn: 'Log in',
  otherId: 'Use another identifier',
  loginFailed: (msg) => `The login failed: ${msg}`,
  oidcIntro: "This election asks each voter to log in with their organisation's account before casting.",
  oidcButton: 'Log in with my organisation',
  questionsHeading: 'Your choices',
  questionsIntro: (n) => (n === 1 ? 'Answer the question below, then review your choices.' : `Answer the ${n} questions below, then review your choices.`),
  ruleOne: 'Choose one answer.',
  ruleExactly: (n) => `Choose ${n} answers.`,
  ruleUpTo: (n) => `Choose at most ${n} answers.`,
  ruleBetween: (a, b) => `Choose between ${a} and ${b} answers.`,
  ruleUpToOne: 'Choose at most one answer.',
  ruleBlank: 'You may vote blank.',
  blank: 'Blank vote',
  chosen: (n, max) => `${n} of ${max} chosen.`,
  full: (max) => `You have chosen ${max}: remove one to choose another.`,
  tooFew: (min) => `Choose at least ${min}, or vote blank where allowed.`,
  review: 'Review my choices',
  fix: 'Some answers do not follow the rules: see the questions marked below.',
  reviewHeading: 'Check your choices',
  reviewIntro: 'Your vote will be encrypted on this device, then sent. Nobody, not even the server, can read it; only the total of all votes is ever decrypted.',
  none: 'No answer',
  change: 'Change my choices',
  cast: 'Encrypt and cast my vote',
  audit: 'Audit this encryption',
  auditWhy: 'Not sure the booth encrypts what you chose? You can test it: the booth encrypts your choices, then shows you the secret numbers it used, so that another page can check the encryption. A ballot tested this way can be read by anyone, so it is thrown away and never sent; you then cast a new encryption.',
  auditHeading: 'Your encryption, opened',
  auditWorking: 'Encrypting your choices for the audit…',
  auditIntro: 'This is a test encryption of your choices, with the secret numbers (the randomness) that were used to encrypt each answer. It has not been sent and it will never be counted: anyone who sees these numbers can read it.',
  auditTrackerLabel: 'Tracker of this audited ballot',
  auditTrackerHint: 'It must never appear on the bulletin board: if it does, tell the organiser and the observers.',
  auditDocLabel: 'The opened ballot (the ballot, your choices and the randomness)',
  auditCopy: 'Copy',
  auditCopied: 'Copied.',
  auditDownload: 'Download',
  auditCheckHeading: 'Check it elsewhere',
  auditCheck: 'Copy or download this document, then open the verification page (in a new tab, or on another device you trust) and paste or load it there. It should say that every answer matches your choices.',
  auditLink: 'Open the verification page',
  auditNextHeading: 'Then cast your vote',
  auditNext: 'When you are satisfied, cast your vote: the booth encrypts your choices again with new secret numbers and sends that ballot. Its tracker will differ from this one.',
  recast: 'Encrypt again and cast my vote',
  encrypting: 'Encrypting and proving your vote on this device…',
  sending: 'Sending your encrypted vote…',
  checking: 'Checking that your vote is on the board…',
  refused: (msg) => `Your vote was not taken: ${msg}`,
  doneHeading: 'Your vote is cast',
  doneIntro: 'The server acknowledged your encrypted ballot: it is stored, and on the public bulletin board.',
  trackerLabel: 'Your ballot tracker',
  trackerHint: 'Keep it: it lets you find your ballot on the bulletin board. It does not reveal your vote.',
  checkReceipt: "The server's receipt is signed by the board key of this election.",
  checkInclusion: (seq, size) => `Your ballot is line ${seq} of the board's ${size} signed lines.`,
  checkFailed: (msg) => `The receipt's check failed: ${msg}. Keep this page and tell the organiser and the observers.`,
  laterHeading: 'Check it later',
  later: (url) => `At any time, look your tracker up at ${url}, or download the election record and check everything with urne verify. If you vote again, only your last ballot counts.`,
  timing: (ms) => `Encrypted and proved in ${ms} ms on this device.`,
  receiptDetails: 'The signed receipt (technical)',
  fingerprint: (f) => `Election fingerprint: ${f}`,
  stepOf: (i, n) => `Step ${i} of ${n}`,
  // Ranked and graded questions (issue #8).
  rankRule: (min, max, n) =>
    min === n && max === n
      ? `Rank all ${n} answers, 1 for your first choice.`
      : min === 0
        ? `Rank up to ${max} answers, 1 for your first choice; you may rank none.`
        : min === max
          ? `Rank ${max} answers, 1 for your first choice.`
          : `Rank between ${min} and ${max} answers, 1 for your first choice.`,
  rankNotRanked: 'Not ranked',
  ordinal: (r) => {
    const tens = r % 100;
    const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' }[r % 10] ?? 'th');
    return `${r}${suffix}`;
  },
  rankList: 'Your ranking, your first choice at the top',
  dragHint: 'Drag an answer to move it, or use its buttons.',
  rankUnranked: 'Not ranked',
  rankEmpty: 'Nothing ranked yet.',
  moveUp: 'Move up',
  moveDown: 'Move down',
  remove: 'Remove',
  add: 'Add to my ranking',
  rankMoved: (name, r) => `${name} moved to rank ${r}.`,
  rankRemoved: (name) => `${name} removed from the ranking.`,
  rankAdded: (name, r) => `${name} added at rank ${r}.`,
  rankCount: (k, max) => `${k} of at most ${max} ranked.`,
  rankTwice: (r, names) => `Rank ${r} is given to ${names.join(' and ')}: give each rank to one answer only.`,
  rankGap: (r) => `Rank ${r} is missing: the ranks go 1, 2, 3… without a gap.`,
  rankTooFew: (min) => `Rank at least ${min} ${min === 1 ? 'answer' : 'answers'}.`,
  rankTooMany: (max) => `Rank at most ${max} answers: set the others to “Not ranked”.`,
  rankNone: 'No answer ranked (you abstain on this question).',
  gradeRule: (g) => `Give each answer one of the ${g} grades, from the best to the worst.`,
  gradeMissing: (n) => `Grade every answer: ${n} ${n === 1 ? 'is' : 'are'} left.`,
  gradeCount: (done, n) => `${done} of ${n} answers graded.`,
  colon: ': ',
};

const fr = {
  title: 'Isoloir',
  skip: 'Aller au bulletin',
  switchTo: 'English',
  switchLabel: 'Read in English',
  noScript: 'Cet isoloir a besoin de JavaScript pour chiffrer votre vote sur votre appareil.',
  loading: 'Chargement de l’élection…',
  notFound: 'Cette élection n’existe pas, ou sa préparation n’est pas terminée.',
  notOpen: (phase) => `Le vote n’est pas ouvert (l’élection est à l’étape « ${phase} »).`,
  badAddress: 'Cette adresse ne désigne aucune élection.',
  network: 'Le serveur ne répond pas. Vérifiez votre connexion et réessayez.',
  retry: 'Réessayer',
  credentialHeading: 'Votre code de vote',
  credentialIntro: 'Saisissez le code de vote de votre courrier. Il reste sur cet appareil : il n’est jamais envoyé au serveur.',
  credentialLabel: 'Code de vote',
  credentialHint: 'Des groupes de lettres et de chiffres, comme ABCDE-FGHJK-… ; tirets et espaces sont sans importance.',
  credentialBad: (msg) => `Ce code de vote n’est pas valide : ${msg}. Comparez-le à votre courrier.`,
  next: 'Continuer',
  loginHeading: 'Identifiez-vous',
  loginIntro: 'Cette élection demande à chaque électeur de s’identifier avant de voter. Nous envoyons un code à usage unique à l’adresse que l’organisateur a pour vous.',
  voterLabel: 'Votre identifiant d’électeur',
  voterHint: 'Tel qu’il figure dans votre courrier de vote (souvent votre adresse électronique).',
  sendCode: 'M’envoyer un code',
  codeHeading: 'Saisissez votre code',
  codeIntro: (minutes) => `Si votre identifiant figure sur la liste électorale, un code de six chiffres arrive dans votre messagerie. Il est valable ${minutes} minutes.`,
  codeLabel: 'Code',
  codeHint: 'Six chiffres.',
  logIn: 'Me connecter',
  otherId: 'Utiliser un autre identifiant',
  loginFailed: (msg) => `La connexion a échoué : ${msg}`,
  oidcIntro: 'Cette élection demande à chaque électeur de se connecter avec le compte de son organisation avant de voter.',
  oidcButton: 'Me connecter avec mon organisation',
  questionsHeading: 'Vos choix',
  questionsIntro: (n) => (n === 1 ? 'Répondez à la question ci-dessous, puis relisez vos choix.' : `Répondez aux ${n} questions ci-dessous, puis relisez vos choix.`),
  ruleOne: 'Choisissez une réponse.',
  ruleExactly: (n) => `Choisissez ${n} réponses.`,
  ruleUpTo: (n) => `Choisissez au plus ${n} réponses.`,
  ruleBetween: (a, b) => `Choisissez entre ${a} et ${b} réponses.`,
  ruleUpToOne: 'Choisissez au plus une réponse.',
  ruleBlank: 'Vous pouvez voter blanc.',
  blank: 'Vote blanc',
  chosen: (n, max) => `${n} sur ${max} choisie(s).`,
  full: (max) => `Vous en avez choisi ${max} : retirez-en une pour en choisir une autre.`,
  tooFew: (min) => `Choisissez-en au moins ${min}, ou votez blanc si c’est permis.`,
  review: 'Relire mes choix',
  fix: 'Certaines réponses ne suivent pas les règles : voyez les questions signalées ci-dessous.',
  reviewHeading: 'Vérifiez vos choix',
  reviewIntro: 'Votre vote sera chiffré sur cet appareil, puis envoyé. Personne, pas même le serveur, ne peut le lire ; seul le total de tous les votes est déchiffré.',
  none: 'Aucune réponse',
  change: 'Modifier mes choix',
  cast: 'Chiffrer et déposer mon vote',
  audit: 'Auditer ce chiffrement',
  auditWhy: 'Vous voulez vérifier que l’isoloir chiffre bien ce que vous avez choisi ? Vous pouvez le tester : l’isoloir chiffre vos choix, puis vous montre les nombres secrets qu’il a utilisés, pour qu’une autre page vérifie ce chiffrement. Un bulletin ainsi testé est lisible par tous : il est jeté et jamais envoyé ; vous déposez ensuite un nouveau chiffrement.',
  auditHeading: 'Votre chiffrement, ouvert',
  auditWorking: 'Chiffrement de vos choix pour l’audit…',
  auditIntro: 'Voici un chiffrement d’essai de vos choix, avec les nombres secrets (l’aléa) qui ont servi à chiffrer chaque réponse. Il n’a pas été envoyé et ne sera jamais compté : quiconque voit ces nombres peut le lire.',
  auditTrackerLabel: 'Traceur de ce bulletin audité',
  auditTrackerHint: 'Il ne doit jamais apparaître sur le tableau d’affichage : si c’est le cas, prévenez l’organisateur et les observateurs.',
  auditDocLabel: 'Le bulletin ouvert (le bulletin, vos choix et l’aléa)',
  auditCopy: 'Copier',
  auditCopied: 'Copié.',
  auditDownload: 'Télécharger',
  auditCheckHeading: 'Le vérifier ailleurs',
  auditCheck: 'Copiez ou téléchargez ce document, puis ouvrez la page de vérification (dans un nouvel onglet, ou sur un autre appareil de confiance) et collez-le ou chargez-le. Elle doit indiquer que chaque réponse correspond à vos choix.',
  auditLink: 'Ouvrir la page de vérification',
  auditNextHeading: 'Puis déposez votre vote',
  auditNext: 'Une fois rassuré, déposez votre vote : l’isoloir chiffre de nouveau vos choix avec de nouveaux nombres secrets et envoie ce bulletin. Son traceur sera différent de celui-ci.',
  recast: 'Chiffrer de nouveau et déposer mon vote',
  encrypting: 'Chiffrement et preuves de votre vote sur cet appareil…',
  sending: 'Envoi de votre vote chiffré…',
  checking: 'Vérification de la présence de votre vote sur le tableau…',
  refused: (msg) => `Votre vote n’a pas été pris : ${msg}`,
  doneHeading: 'Votre vote est déposé',
  doneIntro: 'Le serveur a accusé réception de votre bulletin chiffré : il est enregistré, et sur le tableau d’affichage public.',
  trackerLabel: 'Le traceur de votre bulletin',
  trackerHint: 'Gardez-le : il permet de retrouver votre bulletin sur le tableau d’affichage. Il ne révèle pas votre vote.',
  checkReceipt: 'Le reçu du serveur est signé par la clé du tableau de cette élection.',
  checkInclusion: (seq, size) => `Votre bulletin est la ligne ${seq} des ${size} lignes signées du tableau.`,
  checkFailed: (msg) => `La vérification du reçu a échoué : ${msg}. Gardez cette page et prévenez l’organisateur et les observateurs.`,
  laterHeading: 'Vérifier plus tard',
  later: (url) => `À tout moment, cherchez votre traceur à ${url}, ou téléchargez le registre de l’élection et vérifiez tout avec urne verify. Si vous votez de nouveau, seul votre dernier bulletin compte.`,
  timing: (ms) => `Chiffré et prouvé en ${ms} ms sur cet appareil.`,
  receiptDetails: 'Le reçu signé (technique)',
  fingerprint: (f) => `Empreinte de l’élection : ${f}`,
  stepOf: (i, n) => `Étape ${i} sur ${n}`,
  rankRule: (min, max, n) =>
    min === n && max === n
      ? `Classez les ${n} réponses, 1 pour votre premier choix.`
      : min === 0
        ? `Classez au plus ${max} réponses, 1 pour votre premier choix ; vous pouvez n’en classer aucune.`
        : min === max
          ? `Classez ${max} réponses, 1 pour votre premier choix.`
          : `Classez entre ${min} et ${max} réponses, 1 pour votre premier choix.`,
  rankNotRanked: 'Non classée',
  ordinal: (r) => (r === 1 ? '1er' : `${r}e`),
  rankList: 'Votre classement, votre premier choix en haut',
  dragHint: 'Faites glisser une réponse pour la déplacer, ou utilisez ses boutons.',
  rankUnranked: 'Non classées',
  rankEmpty: 'Rien n’est encore classé.',
  moveUp: 'Monter',
  moveDown: 'Descendre',
  remove: 'Retirer',
  add: 'Ajouter à mon classement',
  rankMoved: (name, r) => `${name} passe au rang ${r}.`,
  rankRemoved: (name) => `${name} est retirée du classement.`,
  rankAdded: (name, r) => `${name} est ajoutée au rang ${r}.`,
  rankCount: (k, max) => `${k} classée(s) sur ${max} au plus.`,
  rankTwice: (r, names) => `Le rang ${r} est donné à ${names.join(' et ')} : donnez chaque rang à une seule réponse.`,
  rankGap: (r) => `Le rang ${r} manque : les rangs vont 1, 2, 3… sans trou.`,
  rankTooFew: (min) => `Classez au moins ${min} ${min === 1 ? 'réponse' : 'réponses'}.`,
  rankTooMany: (max) => `Classez au plus ${max} réponses : mettez les autres à « Non classée ».`,
  rankNone: 'Aucune réponse classée (vous vous abstenez sur cette question).',
  gradeRule: (g) => `Donnez à chaque réponse une des ${g} mentions, de la meilleure à la moins bonne.`,
  gradeMissing: (n) => `Évaluez chaque réponse : ${n === 1 ? 'il en reste une' : `il en reste ${n}`}.`,
  gradeCount: (done, n) => `${done} réponse(s) évaluée(s) sur ${n}.`,
  colon: ' : ',
};

const words = { en, fr };
let lang = 'en';

/** The language the browser prefers among ours. */
export function preferredLanguage(languages = globalThis.navigator?.languages ?? []) {
  for (const l of languages) {
    const base = String(l).toLowerCase().split('-')[0];
    if (base in words) return base;
  }
  return 'en';
}

/** Sets the current language ('en' or 'fr'). */
export function setLanguage(l) {
  lang = l in words ? l : 'en';
}

/** The current language. */
export function language() {
  return lang;
}

/** The text of `key` in the current language. */
export function t(key, ...args) {
  const v = words[lang][key] ?? en[key] ?? key;
  return typeof v === 'function' ? v(...args) : v;
}
