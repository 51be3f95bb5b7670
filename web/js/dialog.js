// A modal confirmation (<dialog>: focus is trapped, Escape cancels) and a
// polite message line for the outcome of actions.

import {h} from './util.js';

let dlg = null;

export function confirmDialog({title, message, ok = 'OK', cancel = 'Keep it', danger = false}) {
  if (!dlg) {
    dlg = h('dialog', {class: 'confirm', 'aria-labelledby': 'dlg-title', 'aria-describedby': 'dlg-msg'},
      h('form', {method: 'dialog'},
        h('h2', {id: 'dlg-title'}),
        h('p', {id: 'dlg-msg'}),
        h('div', {class: 'dlg-buttons'},
          h('button', {value: 'cancel', class: 'btn', autofocus: true}),
          h('button', {value: 'ok', class: 'btn'}))));
    document.body.append(dlg);
  }
  const [titleEl, msgEl, buttons] = dlg.firstChild.children;
  titleEl.textContent = title;
  msgEl.textContent = message;
  buttons.children[0].textContent = cancel;
  buttons.children[1].textContent = ok;
  buttons.children[1].className = danger ? 'btn danger' : 'btn primary';
  dlg.returnValue = '';
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), {once: true});
    dlg.showModal();
  });
}

let toastTimer = 0;

// Shows a short message in the page's status line (announced politely).
export function toast(text, kind = 'info') {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = text;
  el.className = `toast ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.textContent = ''; }, 6000);
}
