// The traces page: a small router over four views. Each view is a module
// whose `render(url, ctx)` resolves to `{ node, title }`; the router swaps
// the node in only if no newer navigation started meanwhile.

import { h, link, notice, query } from './dom.js';
import { AuthError, setApiKey } from './api.js';
import * as traces from './traces.js';
import * as trace from './trace.js';
import * as users from './users.js';
import * as sessions from './sessions.js';

const ROUTES = [
  { pattern: /^\/$/, nav: 'traces', view: traces },
  { pattern: /^\/users\/?$/, nav: 'users', view: users },
  { pattern: /^\/sessions\/?$/, nav: 'sessions', view: sessions },
  { pattern: /^\/trace\/([^/]+)$/, nav: 'traces', view: trace },
];

const main = document.getElementById('main');
let generation = 0;
let lastRoute = null;

/**
 * The route for `pathname`, with its arguments decoded; `null` if there is
 * none. An argument that is not valid percent-encoding (`%E0%A4%A`, which
 * decodeURIComponent throws on) gives a route with `invalid` set to the
 * raw text instead, which the page reports rather than failing to render.
 */
function route(pathname) {
  for (const r of ROUTES) {
    const match = pathname.match(r.pattern);
    if (!match) continue;
    const args = [];
    for (const raw of match.slice(1)) {
      try {
        args.push(decodeURIComponent(raw));
      } catch {
        return { ...r, args: [], invalid: raw };
      }
    }
    return { ...r, args };
  }
  return null;
}

/** The view for an address whose argument is not valid percent-encoding. */
function invalidAddress(r) {
  const what = r.view === trace ? 'trace id' : 'address';
  return {
    node: h('section', { class: 'view' },
      h('h1', { id: 'view-title' }, r.view === trace ? 'Trace not found' : 'Not found'),
      notice('error', `“${r.invalid}” is not a valid ${what}: it is not valid percent-encoding.`),
      link('/', null, '← All traces')),
    title: 'Not found',
  };
}

/** Goes to `path` with `params`; `replace` keeps the history entry. */
function navigate(path, params = {}, { replace = false, keepFocus = null } = {}) {
  const url = path + query(params);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render({ keepFocus });
}

function keyForm(retry) {
  const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true });
  return h('section', { class: 'view' },
    h('h1', { id: 'view-title' }, 'API key needed'),
    notice('info', 'This collector was started with an API key. Enter it to read traces; it is kept for this tab only.'),
    h('form', {
      class: 'key-form',
      onsubmit: (event) => {
        event.preventDefault();
        setApiKey(input.value.trim());
        retry();
      },
    }, h('label', { for: 'api-key' }, 'API key'), input, h('button', { type: 'submit', class: 'primary' }, 'Use key')));
}

async function render({ keepFocus = null } = {}) {
  const mine = ++generation;
  const url = new URL(location.href);
  const r = route(url.pathname);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (r && a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.setAttribute('aria-busy', 'true');
  let result;
  try {
    if (!r) {
      result = { node: h('section', { class: 'view' }, h('h1', { id: 'view-title' }, 'Not found'), notice('error', 'There is no such page.')), title: 'Not found' };
    } else if (r.invalid !== undefined) {
      result = invalidAddress(r);
    } else {
      result = await r.view.render(url, { navigate }, ...r.args);
    }
  } catch (e) {
    if (e instanceof AuthError) {
      result = { node: keyForm(() => render()), title: 'API key needed' };
    } else {
      result = { node: h('section', { class: 'view' }, h('h1', { id: 'view-title' }, 'Something went wrong'), notice('error', e.message || String(e))), title: 'Error' };
    }
  }
  if (mine !== generation) return;
  main.replaceChildren(result.node);
  main.removeAttribute('aria-busy');
  document.title = `${result.title} · neatlogs`;
  const routeKey = r ? `${r.nav}:${r.args.join('/')}` : null;
  if (keepFocus) {
    const el = main.querySelector(keepFocus);
    if (el) el.focus();
  } else if (lastRoute !== null && routeKey !== lastRoute) {
    // A new view: move focus to its heading, as a page load would.
    const heading = main.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }
  lastRoute = routeKey;
  document.body.dataset.ready = String(generation);
}

document.addEventListener('click', (event) => {
  const a = event.target.closest('a[href]');
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !route(url.pathname)) return;
  event.preventDefault();
  history.pushState(null, '', url.pathname + url.search);
  render();
});
window.addEventListener('popstate', () => render());
render();
