// What every view shares: how a failure shows, and polling that stops with the view.
import { el, replace } from './dom.js';

/** A failure as the page shows it: what was asked, the status, and the server's message. */
export function errorBox(error) {
  const text = typeof error?.describe === 'function' ? error.describe() : `Something went wrong in the page: ${error?.message ?? error}`;
  return el('div', { class: 'error', role: 'alert' }, el('strong', {}, 'Error. '), text);
}

/** Shows `error` in `slot`, or empties it when there is none. */
export function showError(slot, error) {
  if (error) replace(slot, errorBox(error));
  else slot.replaceChildren();
}

/** Runs `task` now and then `ms` after each run ends, until `stop()`. */
export function every(ms, task) {
  let timer;
  let stopped = false;
  const run = async () => {
    try {
      await task();
    } finally {
      if (!stopped) timer = setTimeout(run, ms);
    }
  };
  void run();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** A labelled value for a `dl class="facts"`. */
export function fact(term, value) {
  return el('div', {}, el('dt', {}, term), el('dd', {}, value));
}
