// The confirmation of an irreversible step: a modal <dialog> that says what will happen, and
// asks for the election's id to be typed before its confirm button can be pressed. Escape or
// Cancel closes it without acting; the focus goes back to the button that opened it.

import { el } from '../common/dom.js';
import { t } from './words.js';

/**
 * Asks to confirm: `title` (the question), `consequence` (what cannot be undone), `id` (to type)
 * and `action` (the confirm button's words). Resolves true when confirmed.
 */
export function confirmStep({ title, consequence, id, action }) {
  const opener = document.activeElement;
  const input = el('input', { type: 'text', id: 'confirm-id', autocomplete: 'off', spellcheck: 'false' });
  const ok = el('button', { type: 'submit', id: 'confirm-ok', class: 'danger', disabled: true }, action);
  input.addEventListener('input', () => {
    ok.disabled = input.value.trim() !== id;
  });
  const form = el(
    'form',
    { method: 'dialog' },
    el('h2', { id: 'confirm-title' }, title),
    el('p', { id: 'confirm-text' }, consequence),
    el('label', { class: 'field', for: 'confirm-id' }, t('confirmTyped', id)),
    input,
    el(
      'div',
      { class: 'actions' },
      ok,
      el('button', { type: 'button', class: 'secondary', id: 'confirm-cancel', onclick: () => dialog.close('cancel') }, t('cancel')),
    ),
  );
  const dialog = el('dialog', { id: 'confirm', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' }, form);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (input.value.trim() === id) dialog.close('ok');
  });
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const confirmed = dialog.returnValue === 'ok';
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(confirmed);
    });
    dialog.showModal();
    input.focus();
  });
}
