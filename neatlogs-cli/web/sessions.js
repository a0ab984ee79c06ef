// The Sessions view: each session's turns (traces) in order, with its end-user.

import { h, link, notice } from './dom.js';
import { get } from './api.js';
import { addFilterBar, quote } from './filters.js';
import { tracesTable, endUserLink } from './traces.js';
import * as fmt from './format.js';

const PAGE_SIZE = 20;
/** Sessions whose turns are loaded straight away; the rest load when opened. */
const OPEN = 5;
const MAX_TURNS = 200;

async function loadTurns(session, slot) {
  try {
    const data = await get('/api/traces', { filter: `session is ${quote(session.session)}`, limit: MAX_TURNS });
    // The API lists newest first; a conversation reads oldest first.
    const turns = [...data.traces].reverse();
    slot.replaceChildren(tracesTable(turns, { caption: `Turns of session ${session.session}, in order`, omit: ['session'] }),
      session.turns > MAX_TURNS ? h('p', { class: 'muted' }, `Showing the last ${MAX_TURNS} of ${session.turns} turns.`) : '');
  } catch (e) {
    slot.replaceChildren(notice('error', `Could not load the turns: ${e.message}`));
  }
}

function sessionBlock(session, open) {
  const slot = h('div', { class: 'turns' }, h('p', { class: 'muted' }, 'Loading turns…'));
  let loaded = false;
  const details = h('details', { class: 'session', 'data-session': session.session, open },
    h('summary', null,
      h('span', { class: 'session-id' }, session.session),
      h('span', { class: 'session-user' }, 'End-user: ', endUserLink(session.end_user)),
      h('span', { class: 'muted' }, `${fmt.int(session.turns)} ${session.turns === 1 ? 'turn' : 'turns'} · ${fmt.time(session.first_turn)} → ${fmt.time(session.last_turn)}`),
      session.errors ? h('span', { class: 'badge badge-error' }, `${session.errors} failed`) : null),
    session.end_user_conflict
      ? notice('info', 'Turns of this session name different end-users: ', session.end_users.join(', '), '.')
      : null,
    slot);
  const load = () => {
    if (!loaded && details.open) {
      loaded = true;
      loadTurns(session, slot);
    }
  };
  details.addEventListener('toggle', load);
  if (open) load();
  return details;
}

export async function render(url, ctx) {
  const limit = Math.min(1000, Math.max(PAGE_SIZE, Number.parseInt(url.searchParams.get('limit') || '', 10) || PAGE_SIZE));
  const view = h('section', { class: 'view', 'aria-labelledby': 'view-title' }, h('h1', { id: 'view-title' }, 'Sessions'));
  const onChange = (texts) => ctx.navigate('/sessions', { f: texts });
  const parsed = await addFilterBar(view, url, onChange);
  if (!parsed) return { node: view, title: 'Sessions' };
  const data = await get('/api/sessions', { filter: parsed.filter, limit: limit + 1 });
  const sessions = data.sessions.slice(0, limit);
  view.append(h('p', { class: 'summary', role: 'status' },
    sessions.length === 1 ? '1 session' : `${fmt.int(sessions.length)}${data.sessions.length > limit ? '+' : ''} sessions`,
    ', most recent first'));
  if (!sessions.length) {
    view.append(notice('empty', 'No sessions. A trace joins a session when its root (or the SDK) sets a session id.'));
    return { node: view, title: 'Sessions' };
  }
  view.append(h('div', { class: 'sessions' }, sessions.map((session, i) => sessionBlock(session, i < OPEN))));
  if (data.sessions.length > limit) {
    view.append(h('nav', { class: 'pager', 'aria-label': 'More sessions' },
      link('/sessions', { f: url.searchParams.getAll('f'), limit: limit + PAGE_SIZE }, 'Show more sessions')));
  }
  return { node: view, title: 'Sessions' };
}
