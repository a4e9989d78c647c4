// The administration pages of urne (issue #7), served by `urne serve` at /admin (login and the
// list of elections), /admin/new (a new draft) and /admin/elections/{id} (one election, from
// draft to publication: manage.js). Plain ES modules, no framework; built with DOM calls under
// the pages' strict Content-Security-Policy; English and French (common/lang.js). The session
// is the HttpOnly cookie of POST /api/v1/admin/login: the page never sees it, and learns that it
// ended when the API answers 401, when it shows the login form again.

import { $, el } from '../common/dom.js';
import { api } from './api.js';
import { draftForm, newDraft } from './draft.js';
import { electionView } from './manage.js';
import { language, named, rich, setLanguage, t } from './words.js';

/** What the address asks for: the list, a new draft, or one election. */
function route(path = location.pathname) {
  const m = /^\/admin\/elections\/([^/]+)\/?$/.exec(path);
  if (m) return { name: 'election', id: decodeURIComponent(m[1]) };
  if (/^\/admin\/new\/?$/.test(path)) return { name: 'new' };
  return { name: 'list' };
}

const app = { route: route(), view: null, loggedIn: false, loginError: null, form: null, list: null };

const ctx = {
  status(text) {
    $('status').textContent = text;
  },
  ready() {
    document.body.dataset.ready = 'true';
  },
  unauthorized() {
    app.view?.stop?.();
    app.view = null;
    app.loggedIn = false;
    showLogin();
  },
  notFound() {
    $('heading').textContent = t('notFound');
    $('content').replaceChildren(el('p', {}, el('a', { href: '/admin' }, t('elections'))));
    ctx.ready();
  },
};

function chrome() {
  const b = $('lang');
  b.textContent = t('switchTo');
  b.setAttribute('lang', language() === 'en' ? 'fr' : 'en');
  $('skip').textContent = t('skip');
  const nav = $('nav');
  nav.setAttribute('aria-label', t('admin'));
  nav.replaceChildren(
    ...(app.loggedIn
      ? [
          el('a', { href: '/admin', 'aria-current': app.route.name === 'list' ? 'page' : null }, t('elections')),
          el('button', { type: 'button', class: 'link', id: 'logout', onclick: logout }, t('logOut')),
        ]
      : []),
  );
}

function showLogin() {
  chrome();
  document.body.dataset.ready = 'false';
  $('heading').textContent = t('loginHeading');
  document.title = `${t('loginHeading')} — ${t('admin')}`;
  const name = el('input', { type: 'text', id: 'login-name', autocomplete: 'username', required: true, spellcheck: 'false' });
  const password = el('input', { type: 'password', id: 'login-password', autocomplete: 'current-password', required: true });
  const error = el('p', { id: 'login-error', class: 'error', role: 'alert' }, app.loginError ?? '');
  const form = el(
    'form',
    { id: 'login-form', 'aria-labelledby': 'heading' },
    el('p', {}, rich(t('loginIntro'))),
    el('label', { class: 'field', for: 'login-name' }, t('name')),
    name,
    el('label', { class: 'field', for: 'login-password' }, t('password')),
    password,
    error,
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'login-submit' }, t('logIn'))),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/admin/login', { name: name.value, password: password.value });
      app.loginError = null;
      app.loggedIn = true;
      ctx.status('');
      await show();
      $('heading').focus();
    } catch (err) {
      app.loginError = err.status === 401 ? t('badLogin') : err.code === 'network' ? t('network') : t('refused', err.message);
      error.textContent = app.loginError;
      password.value = '';
      password.focus();
    }
  });
  $('content').replaceChildren(form);
  ctx.ready();
}

async function logout() {
  try {
    await api('POST', '/admin/logout', {});
  } catch {
    // An expired session is logged out already.
  }
  ctx.status(t('loggedOut'));
  ctx.unauthorized();
  $('login-name')?.focus();
}

async function showList() {
  $('heading').textContent = t('elections');
  document.title = `${t('elections')} — ${t('admin')}`;
  const list = app.list;
  const table = list.length
    ? el(
        'div',
        { class: 'scroll' },
        el(
          'table',
          { class: 'numbers', id: 'elections' },
          el('caption', { class: 'visually-hidden' }, t('elections')),
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ['colId', 'colTitle', 'colPhase', 'colBoard'].map((c) => el('th', { scope: 'col', class: c === 'colBoard' ? 'num' : null }, t(c))),
            ),
          ),
          el(
            'tbody',
            {},
            list.map((e) =>
              el(
                'tr',
                { 'data-id': e.id },
                el('td', {}, el('a', { href: `/admin/elections/${encodeURIComponent(e.id)}` }, e.id)),
                el('td', {}, e.draft.title),
                el('td', { 'data-phase': e.phase }, e.phase === 'setup' && e.board_size > 0 ? t('sealedSetup') : named('phases', e.phase)),
                el('td', { class: 'num' }, String(e.board_size)),
              ),
            ),
          ),
        ),
      )
    : el('p', { id: 'no-elections' }, t('noElections'));
  $('content').replaceChildren(el('p', {}, el('a', { href: '/admin/new', class: 'button', id: 'new-election' }, t('newElection'))), table);
  ctx.ready();
}

function showNew() {
  $('heading').textContent = t('newHeading');
  document.title = `${t('newHeading')} — ${t('admin')}`;
  if (!app.form) {
    app.form = draftForm({
      draft: newDraft(language()),
      creating: true,
      onSubmit: async (id, draft) => {
        await api('POST', '/admin/elections', { id, draft });
        ctx.status(t('created'));
        location.assign(`/admin/elections/${encodeURIComponent(id)}`);
      },
    });
  } else {
    app.form.rerender();
  }
  $('content').replaceChildren(app.form);
  ctx.ready();
}

/** Shows what the address asks for, or the login form. */
async function show() {
  document.body.dataset.ready = 'false';
  if (app.route.name === 'list' || !app.loggedIn) {
    try {
      app.list = await api('GET', '/admin/elections');
      app.loggedIn = true;
    } catch (e) {
      if (e.status === 401) return showLogin();
      $('content').replaceChildren(el('p', { class: 'error', role: 'alert' }, e.code === 'network' ? t('network') : t('refused', e.message)));
      return ctx.ready();
    }
  }
  chrome();
  if (app.route.name === 'list') return showList();
  if (app.route.name === 'new') return showNew();
  app.view = electionView(app.route.id, ctx);
  await app.view.start();
}

$('lang').addEventListener('click', () => {
  setLanguage(language() === 'en' ? 'fr' : 'en');
  chrome();
  if (!app.loggedIn) showLogin();
  else if (app.route.name === 'list') showList();
  else if (app.route.name === 'new') showNew();
  else app.view?.render();
});

document.documentElement.lang = language();
show();
