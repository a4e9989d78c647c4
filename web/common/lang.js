// The choice of language for urne's pages (French and English): from the browser's settings,
// switchable, remembered for the visit. `makeWords({en, fr})` gives a page its `t(key, ...args)`;
// an entry that is a function takes the arguments.

const KEY = 'urne-lang';

/** The language the browser prefers among `known` ('en' if none). */
export function preferredLanguage(known, languages = globalThis.navigator?.languages ?? []) {
  for (const l of languages) {
    const base = String(l).toLowerCase().split('-')[0];
    if (known.includes(base)) return base;
  }
  return 'en';
}

/** The words of a page: `{t, language, setLanguage}`, starting in the visitor's language. */
export function makeWords(words) {
  const known = Object.keys(words);
  let lang;
  try {
    lang = globalThis.sessionStorage?.getItem(KEY);
  } catch {
    lang = null;
  }
  if (!known.includes(lang)) lang = preferredLanguage(known);
  return {
    t(key, ...args) {
      const v = words[lang][key] ?? words.en[key] ?? key;
      return typeof v === 'function' ? v(...args) : v;
    },
    language: () => lang,
    setLanguage(l) {
      lang = known.includes(l) ? l : 'en';
      try {
        globalThis.sessionStorage?.setItem(KEY, lang);
      } catch {
        // A browser that refuses storage keeps the choice for this page only.
      }
      document.documentElement.lang = lang;
    },
  };
}
