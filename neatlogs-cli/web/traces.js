// The Traces view: the filtered list, newest first, a page at a time.

import { h, link, notice } from './dom.js';
import { get } from './api.js';
import { addFilterBar, quote } from './filters.js';
import * as fmt from './format.js';

const PAGE_SIZE = 50;

const COLUMNS = [
  ['time', 'Time'], ['workflow', 'Workflow'], ['name', 'Name'], ['end_user', 'End-user'], ['session', 'Session'],
  ['spans', 'Spans'], ['duration', 'Duration'], ['status', 'Status'], ['tokens', 'Tokens'], ['cost', 'Cost'],
];
const NUMERIC = new Set(['spans', 'duration', 'tokens', 'cost']);

/** A status badge: `ok` or `error`. */
export function statusBadge(status) {
  const error = status === 'error';
  return h('span', { class: `badge ${error ? 'badge-error' : 'badge-ok'}` }, error ? 'error' : 'ok');
}

/** A link to the traces of one end-user. */
export function endUserLink(endUser) {
  if (!endUser) return h('span', { class: 'muted' }, 'none');
  return link('/', { f: `end_user is ${quote(endUser)}` }, endUser);
}

function cell(column, trace) {
  switch (column) {
    case 'time':
      return h('time', { datetime: trace.start, title: trace.start }, fmt.time(trace.start));
    case 'workflow':
      return trace.workflow || h('span', { class: 'muted' }, '—');
    case 'name':
      return link(`/trace/${trace.trace_id}`, null, trace.name || '(unnamed)');
    case 'end_user':
      return endUserLink(trace.end_user);
    case 'session':
      return trace.session
        ? link('/sessions', { f: `session is ${quote(trace.session)}` }, trace.session)
        : h('span', { class: 'muted' }, '—');
    case 'spans':
      return trace.error_count
        ? [fmt.int(trace.span_count), ' ', h('span', { class: 'error-text' }, `(${trace.error_count} failed)`)]
        : fmt.int(trace.span_count);
    case 'duration':
      return fmt.duration(trace.duration_ms);
    case 'status':
      return statusBadge(trace.status);
    case 'tokens': {
      const total = trace.input_tokens + trace.output_tokens;
      return total
        ? h('span', { title: `${fmt.int(trace.input_tokens)} in · ${fmt.int(trace.output_tokens)} out` }, fmt.int(total))
        : h('span', { class: 'muted' }, '—');
    }
    case 'cost':
      return trace.cost_usd != null
        ? h('span', { title: trace.unpriced_spans ? `${trace.unpriced_spans} LLM call(s) without a known price are not included` : null }, fmt.usd(trace.cost_usd))
        : '';
    default:
      return '';
  }
}

/** The traces table (also used for a session's turns, without the session column). */
export function tracesTable(traces, { caption, id, omit = [] } = {}) {
  const columns = COLUMNS.filter(([key]) => !omit.includes(key));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data', id },
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h('thead', null, h('tr', null, columns.map(([key, label]) => h('th', { scope: 'col', class: NUMERIC.has(key) ? 'num' : null }, label)))),
      h('tbody', null, traces.map((trace) => h('tr', {
        class: trace.status === 'error' ? 'row-error' : null,
        'data-trace-id': trace.trace_id,
      }, columns.map(([key]) => h('td', { 'data-col': key, class: NUMERIC.has(key) ? 'num' : null }, cell(key, trace))))))));
}

export async function render(url, ctx) {
  const page = Math.max(1, Number.parseInt(url.searchParams.get('page') || '1', 10) || 1);
  const view = h('section', { class: 'view', 'aria-labelledby': 'view-title' }, h('h1', { id: 'view-title' }, 'Traces'));
  const onChange = (texts) => ctx.navigate('/', { f: texts });

  const parsed = await addFilterBar(view, url, onChange);
  if (!parsed) return { node: view, title: 'Traces' };
  const data = await get('/api/traces', {
    filter: parsed.filter, limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, count: 'true',
  });

  // The server counts up to a limit past this page; beyond it, `total` is
  // a lower bound ("10,000+ traces").
  const total = data.total ?? data.traces.length;
  const plus = data.total_is_lower_bound ? '+' : '';
  const first = total ? (page - 1) * PAGE_SIZE + 1 : 0;
  const last = (page - 1) * PAGE_SIZE + data.traces.length;
  view.append(h('p', { class: 'summary', role: 'status', id: 'trace-count' },
    total === 1 && !plus ? '1 trace' : `${fmt.int(total)}${plus} traces`,
    data.traces.length && total > data.traces.length ? `, showing ${fmt.int(first)}–${fmt.int(last)}` : '',
    parsed.filter ? ' matching the filters' : ''));

  if (!data.traces.length) {
    view.append(total || parsed.filter
      ? notice('empty', 'No traces match these filters.')
      : notice('empty', 'No traces yet. Point an SDK at this collector: ',
        h('code', null, `NEATLOGS_ENDPOINT=${location.origin}`), ' for the Rust SDK, or ',
        h('code', null, `endpoint: '${location.origin}'`), ' for the browser SDK.'));
    return { node: view, title: 'Traces' };
  }
  view.append(tracesTable(data.traces, { caption: 'Traces, newest first', id: 'traces' }));

  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (pages > 1) {
    const to = (p) => ({ f: url.searchParams.getAll('f'), page: p > 1 ? p : undefined });
    view.append(h('nav', { class: 'pager', 'aria-label': 'Pages' },
      page > 1 ? link('/', to(page - 1), '← Newer') : h('span', { class: 'muted' }, '← Newer'),
      h('span', null, `Page ${page} of ${fmt.int(pages)}${plus}`),
      page < pages ? link('/', to(page + 1), 'Older →') : h('span', { class: 'muted' }, 'Older →')));
  }
  return { node: view, title: parsed.filter ? `Traces · ${parsed.filter}` : 'Traces' };
}
