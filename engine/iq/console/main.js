// The console's entry: the token prompt, the navigation, and the view the address names
// (#topology, #instances, #stores?store=..., #dead-letters, #conflicts?store=...). Views poll while shown and stop when left.
import { getJson, onTokenNeeded } from './api.js';
import { conflictsView } from './conflicts-view.js';
import { deadLettersView } from './dead-letters-view.js';
import { instancesView } from './instances-view.js';
import { storeView } from './store-view.js';
import { tokenPrompt } from './token-prompt.js';
import { topologyView } from './topology-view.js';

const VIEWS = { topology: topologyView, instances: instancesView, stores: storeView, 'dead-letters': deadLettersView, conflicts: conflictsView };

const main = document.getElementById('view');
let leave = () => undefined;

function show() {
  const [name, search = ''] = location.hash.slice(1).split('?');
  const view = VIEWS[name] ? name : 'topology';
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === `#${view}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  leave();
  leave = VIEWS[view](main, new URLSearchParams(search));
  document.title = `${view[0].toUpperCase()}${view.slice(1).replace('-', ' ')} · Sluice console`;
}

onTokenNeeded(tokenPrompt(document.getElementById('token')));
window.addEventListener('hashchange', () => {
  show();
  main.focus();
});
show();
getJson('v1/metadata')
  .then((metadata) => (document.getElementById('application').textContent = metadata.application))
  .catch(() => undefined);
