// The Users view: usage per end-user, sortable, each row leading to that
// user's traces; and a chart of traces per day for the top users.

import { h, link, notice } from './dom.js';
import { get } from './api.js';
import { addFilterBar, quote } from './filters.js';
import { dailyChart } from './chart.js';
import * as fmt from './format.js';

const COLUMNS = [
  { key: 'end_user', label: 'End-user', value: (u) => u.end_user, text: true },
  { key: 'traces', label: 'Traces', value: (u) => u.traces },
  { key: 'sessions', label: 'Sessions', value: (u) => u.sessions },
  { key: 'tokens', label: 'Tokens', value: (u) => u.input_tokens + u.output_tokens },
  // Unknown costs sort below every known one.
  { key: 'cost', label: 'Cost', value: (u) => (u.cost_usd ?? -1) },
  { key: 'errors', label: 'Errors', value: (u) => u.errors },
  { key: 'p50', label: 'p50', value: (u) => u.p50_ms },
  { key: 'p95', label: 'p95', value: (u) => u.p95_ms },
  { key: 'last_seen', label: 'Last seen', value: (u) => u.last_seen, text: true },
  { key: 'metadata', label: 'Metadata', value: (u) => fmt.metadata(u.metadata), text: true },
];

/** The direction a column sorts in first: text A to Z, numbers and last seen biggest first. */
function firstDir(column) {
  return column.text && column.key !== 'last_seen' ? 'asc' : 'desc';
}

function cell(column, user, filterTexts) {
  switch (column.key) {
    case 'end_user':
      return link('/', { f: [...filterTexts, `end_user is ${quote(user.end_user)}`] }, user.end_user);
    case 'traces': {
      // Stored; and, when the sender sampled, about how many ran.
      const run = Math.round(user.traces_estimated ?? user.traces);
      return run === user.traces
        ? fmt.int(user.traces)
        : h('span', { title: `${fmt.int(user.traces)} stored; about ${fmt.int(run)} run (each stored trace counts 1/p for the probability p it was sampled with)` },
          fmt.int(user.traces), h('span', { class: 'muted' }, ` of ~${fmt.int(run)}`));
    }
    case 'tokens': {
      // Exact from the usage metrics (every call, sampled or not), else
      // what the stored traces hold.
      const exact = user.usage_source === 'usage';
      const source = exact
        ? `from the usage metrics: exact, ${fmt.int(user.llm_calls ?? 0)} LLM calls whether their traces were sampled or not`
        : 'from the stored traces';
      return h('span', { title: `${fmt.int(user.input_tokens)} in · ${fmt.int(user.output_tokens)} out, ${source}` },
        fmt.int(user.input_tokens + user.output_tokens),
        exact ? h('span', { class: 'muted' }, ' exact') : null);
    }
    case 'cost':
      if (user.cost_usd === null || user.cost_usd === undefined) {
        return h('span', { title: 'no price known for these models' }, '');
      }
      return h('span', { title: user.unpriced_spans ? `${fmt.int(user.unpriced_spans)} LLM call(s) without a known price are not included` : null },
        fmt.usd(user.cost_usd), user.unpriced_spans ? h('span', { class: 'muted' }, ' +?') : null);
    case 'errors':
      return user.errors ? h('span', { class: 'error-text' }, fmt.int(user.errors)) : '0';
    case 'p50':
      return fmt.duration(user.p50_ms);
    case 'p95':
      return fmt.duration(user.p95_ms);
    case 'last_seen':
      return h('time', { datetime: user.last_seen, title: fmt.time(user.last_seen) }, fmt.ago(user.last_seen));
    case 'metadata':
      return user.metadata ? fmt.metadata(user.metadata) : h('span', { class: 'muted' }, '—');
    default:
      return fmt.int(column.value(user));
  }
}

function sorted(users, key, dir) {
  const column = COLUMNS.find((c) => c.key === key) || COLUMNS[1];
  const sign = dir === 'asc' ? 1 : -1;
  return [...users].sort((a, b) => {
    const va = column.value(a);
    const vb = column.value(b);
    const order = column.text ? String(va).localeCompare(String(vb)) : va - vb;
    return sign * order || a.end_user.localeCompare(b.end_user);
  });
}

export async function render(url, ctx) {
  const sortKey = COLUMNS.some((c) => c.key === url.searchParams.get('sort')) ? url.searchParams.get('sort') : 'traces';
  const defaultDir = firstDir(COLUMNS.find((c) => c.key === sortKey));
  const dir = ['asc', 'desc'].includes(url.searchParams.get('dir')) ? url.searchParams.get('dir') : defaultDir;
  const view = h('section', { class: 'view', 'aria-labelledby': 'view-title' }, h('h1', { id: 'view-title' }, 'Users'));
  const filterTexts = url.searchParams.getAll('f');
  const onChange = (texts) => ctx.navigate('/users', { f: texts, sort: url.searchParams.get('sort'), dir: url.searchParams.get('dir') });

  const parsed = await addFilterBar(view, url, onChange);
  if (!parsed) return { node: view, title: 'Users' };
  const [report, daily] = await Promise.all([
    get('/api/end-users', { filter: parsed.filter }),
    get('/api/end-users/daily', { filter: parsed.filter, top: 5, days: 14 }),
  ]);

  const users = sorted(report.users, sortKey, dir);
  view.append(h('p', { class: 'summary', role: 'status' },
    users.length === 1 ? '1 end-user' : `${fmt.int(users.length)} end-users`,
    report.traces_without_end_user
      ? [', and ', link('/', { f: [...filterTexts, 'end_user is not set'] }, `${fmt.int(report.traces_without_end_user)} traces without one`)]
      : ''));
  if (!users.length) {
    view.append(notice('empty', parsed.filter ? 'No end-users in the traces that match these filters.' : 'No end-users yet.'));
    return { node: view, title: 'Users' };
  }

  if (daily.series.length) {
    view.append(h('section', { class: 'panel', 'aria-labelledby': 'chart-heading' },
      h('h2', { id: 'chart-heading' }, 'Traces per day, top end-users'), dailyChart(daily)));
  }

  const header = COLUMNS.map((column) => {
    const active = column.key === sortKey;
    const next = active && dir === 'desc' ? 'asc' : active ? 'desc' : firstDir(column);
    return h('th', {
      scope: 'col',
      class: column.text ? null : 'num',
      'aria-sort': active ? (dir === 'asc' ? 'ascending' : 'descending') : null,
    }, h('button', {
      type: 'button',
      class: 'sort',
      'data-sort': column.key,
      onclick: () => ctx.navigate('/users', { f: filterTexts, sort: column.key, dir: next }, { replace: true, keepFocus: `[data-sort="${column.key}"]` }),
    }, column.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (dir === 'asc' ? ' ▲' : ' ▼') : '')));
  });
  view.append(h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'users' },
    h('caption', { class: 'visually-hidden' }, 'Usage per end-user; the column headers sort'),
    h('thead', null, h('tr', null, header)),
    h('tbody', null, users.map((user) => h('tr', { 'data-end-user': user.end_user },
      COLUMNS.map((column) => h('td', { 'data-col': column.key, class: column.text ? null : 'num' }, cell(column, user, filterTexts)))))))));
  return { node: view, title: 'Users' };
}
