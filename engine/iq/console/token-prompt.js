// Asks for the server's bearer token in the page's token form; the token is kept in this tab's
// sessionStorage only, and sent with every API call.
import { saveToken } from './api.js';

/** Returns `(reason) => Promise` that shows the form with the reason and settles once a token is entered. */
export function tokenPrompt(section) {
  const form = section.querySelector('form');
  const input = section.querySelector('input');
  const reason = section.querySelector('[data-reason]');
  const waiting = [];
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token === '') return;
    saveToken(token);
    input.value = '';
    section.hidden = true;
    for (const resolve of waiting.splice(0)) resolve();
  });
  return (why) =>
    new Promise((resolve) => {
      waiting.push(resolve);
      reason.textContent = why;
      section.hidden = false;
      input.focus();
    });
}
