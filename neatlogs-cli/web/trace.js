// The Trace view: the span tree with a timing waterfall, the end-user and
// its metadata on the root, each span's attributes, errors highlighted.

import { h, link, notice } from './dom.js';
import { get, ApiError } from './api.js';
import { quote } from './filters.js';
import { statusBadge, endUserLink } from './traces.js';
import { spanContent } from './transcript.js';
import * as fmt from './format.js';

/**
 * Spans in tree order (parents before children, siblings by start), with
 * depth. Iterative, with no spread of the span list into a call: a trace
 * can hold hundreds of thousands of spans, or a chain that deep.
 */
export function treeOrder(spans) {
  const ids = new Set();
  for (const span of spans) ids.add(span.span_id);
  const children = new Map();
  const roots = [];
  for (const span of spans) {
    if (span.parent_span_id && ids.has(span.parent_span_id)) {
      if (!children.has(span.parent_span_id)) children.set(span.parent_span_id, []);
      children.get(span.parent_span_id).push(span);
    } else {
      roots.push(span);
    }
  }
  const out = [];
  const stack = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push([roots[i], 0]);
  while (stack.length) {
    const [span, depth] = stack.pop();
    const kids = children.get(span.span_id);
    out.push({ span, depth, hasChildren: Boolean(kids) });
    if (kids) for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
  }
  return out;
}

/** Rows of the span tree drawn at first, and added by each "show more". */
export const ROWS_PER_PAGE = 500;

function jsonBlock(value) {
  return h('pre', { class: 'json' }, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

function metadataTable(metadata) {
  const entries = Object.entries(metadata || {});
  if (!entries.length) return h('span', { class: 'muted' }, 'none');
  return h('dl', { class: 'kv', id: 'root-metadata' }, entries.map(([k, v]) => [
    h('dt', null, k),
    h('dd', null, typeof v === 'object' && v !== null ? jsonBlock(v) : fmt.value(v)),
  ]));
}

function identityPanel(trace) {
  return h('section', { class: 'panel identity', 'aria-labelledby': 'identity-title' },
    h('h2', { id: 'identity-title' }, 'End-user'),
    h('dl', { class: 'kv' },
      h('dt', null, 'End-user'), h('dd', { id: 'root-end-user' }, endUserLink(trace.end_user)),
      h('dt', null, 'Metadata'), h('dd', null, metadataTable(trace.end_user_metadata)),
      h('dt', null, 'Session'), h('dd', null, trace.session
        ? link('/sessions', { f: `session is ${quote(trace.session)}` }, trace.session)
        : h('span', { class: 'muted' }, 'none')),
      h('dt', null, 'Operator'), h('dd', null, trace.operator || h('span', { class: 'muted' }, 'none'),
        h('span', { class: 'help' }, ' (who ran the SDK, not an end-user)'))));
}

/**
 * Traces tied to this one by OTLP span links: the trace it was started from
 * (`links`) and the traces started from it (`linked_from`), each a link
 * when stored here.
 */
function linkedTraces(links, linkedFrom) {
  if (!links.length && !linkedFrom.length) return null;
  const item = (l) => h('li', null,
    l.stored ? link(`/trace/${l.other_trace_id}`, null, h('code', null, l.other_trace_id)) : h('code', null, l.other_trace_id),
    l.stored ? null : h('span', { class: 'muted' }, ' (not stored here)'));
  return h('section', { class: 'panel linked', id: 'linked-traces', 'aria-labelledby': 'linked-title' },
    h('h2', { id: 'linked-title' }, 'Linked traces'),
    h('dl', { class: 'kv' },
      links.length ? [h('dt', null, 'Started from'), h('dd', null, h('ul', { id: 'linked-from-here' }, links.map(item)))] : null,
      linkedFrom.length ? [h('dt', null, 'Started here'), h('dd', null, h('ul', { id: 'linked-to-here' }, linkedFrom.map(item)))] : null));
}

function spanDetails(span) {
  const attributes = Object.entries(span.attributes || {}).sort(([a], [b]) => a.localeCompare(b));
  return h('section', { class: 'panel span-details', id: 'span-details', 'aria-live': 'polite', 'aria-labelledby': 'span-title' },
    h('h2', { id: 'span-title' }, span.name, ' ', statusBadge(span.status === 'error' ? 'error' : 'ok')),
    span.status === 'error'
      ? notice('error', h('strong', null, 'Error: '), span.status_message || 'this span failed')
      : null,
    h('dl', { class: 'kv' },
      h('dt', null, 'Kind'), h('dd', null, span.kind || '—'),
      h('dt', null, 'Start'), h('dd', null, h('time', { datetime: span.start, title: span.start }, fmt.time(span.start))),
      h('dt', null, 'Duration'), h('dd', null, fmt.duration(span.duration_ms)),
      span.model ? [h('dt', null, 'Model'), h('dd', null, span.model)] : null,
      span.input_tokens !== null || span.output_tokens !== null
        ? [h('dt', null, 'Tokens'), h('dd', null, `${fmt.int(span.input_tokens)} in · ${fmt.int(span.output_tokens)} out`)]
        : null,
      h('dt', null, 'Span id'), h('dd', null, h('code', null, span.span_id))),
    spanContent(span),
    h('h3', null, 'Attributes'),
    attributes.length
      ? h('table', { class: 'data attrs' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'))),
        h('tbody', null, attributes.map(([k, v]) => h('tr', null,
          h('th', { scope: 'row' }, k),
          h('td', null, typeof v === 'string' && v.length < 120 ? v : jsonBlock(v))))))
      : h('p', { class: 'muted' }, 'none'));
}

/** The earliest start and the latest end of `spans`, in ns (a loop, not Math.min(...spans)). */
function timeRange(spans) {
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const s of spans) {
    t0 = Math.min(t0, s.start_unix_nano);
    t1 = Math.max(t1, s.start_unix_nano + s.duration_ms * 1e6);
  }
  return { t0, total: Math.max(t1 - t0, 1) };
}

/**
 * The span tree with a timing bar per span. Rows are drawn a page at a
 * time ("show more" adds the next), so a trace of any size opens at once.
 */
function waterfall(spans, onSelect) {
  const rows = treeOrder(spans);
  const { t0, total } = timeRange(spans);
  const buttons = [];
  let selected = -1;
  const select = (index) => {
    if (selected >= 0) {
      buttons[selected].setAttribute('aria-pressed', 'false');
      buttons[selected].closest('tr').classList.remove('selected');
    }
    selected = index;
    buttons[index].setAttribute('aria-pressed', 'true');
    buttons[index].closest('tr').classList.add('selected');
    onSelect(rows[index].span);
  };
  const row = ({ span, depth }, index) => {
    const left = ((span.start_unix_nano - t0) / total) * 100;
    const width = Math.max(((span.duration_ms * 1e6) / total) * 100, 0.4);
    const error = span.status === 'error';
    const button = h('button', {
      type: 'button',
      class: 'span-button',
      'aria-pressed': 'false',
      title: error && span.status_message ? `error: ${span.status_message}` : null,
      onclick: () => select(index),
    }, span.name);
    buttons.push(button);
    return h('tr', { class: error ? 'row-error' : null, 'data-span-id': span.span_id, 'data-depth': depth },
      h('td', { class: 'tree-cell' },
        h('span', { class: 'indent', style: { paddingLeft: `${depth * 1.1}rem` } },
          depth ? h('span', { class: 'tree-line', 'aria-hidden': 'true' }, '└ ') : null,
          button,
          error ? [' ', h('span', { class: 'badge badge-error' }, 'error')] : null)),
      h('td', null, span.kind ? h('span', { class: `kind kind-${String(span.kind).toLowerCase()}` }, span.kind) : ''),
      h('td', { class: 'bar-cell' },
        h('span', { class: 'bar-track' },
          h('span', {
            class: `bar${error ? ' bar-error' : ''}`,
            style: { left: `${Math.min(left, 99.6)}%`, width: `${Math.min(width, 100 - Math.min(left, 99.6))}%` },
            role: 'img',
            'aria-label': `starts at ${fmt.duration((span.start_unix_nano - t0) / 1e6)}, lasts ${fmt.duration(span.duration_ms)}`,
          }))),
      h('td', { class: 'num' }, fmt.duration(span.duration_ms)));
  };
  const body = h('tbody');
  const shownText = h('span', { id: 'span-tree-shown' });
  const more = h('button', { type: 'button', class: 'show-more', id: 'span-tree-more' });
  const foot = h('tfoot', null, h('tr', null, h('td', { colspan: 4 }, shownText, ' ', more)));
  const showMore = () => {
    const from = buttons.length;
    const to = Math.min(from + ROWS_PER_PAGE, rows.length);
    const fragment = document.createDocumentFragment();
    for (let i = from; i < to; i++) fragment.append(row(rows[i], i));
    body.append(fragment);
    const left = rows.length - to;
    shownText.textContent = `Showing ${fmt.int(to)} of ${fmt.int(rows.length)} spans.`;
    more.textContent = `Show ${fmt.int(Math.min(left, ROWS_PER_PAGE))} more`;
    foot.hidden = left === 0;
  };
  more.addEventListener('click', showMore);
  showMore();
  const table = h('table', { class: 'data waterfall', id: 'span-tree', 'data-span-count': rows.length },
    h('caption', { class: 'visually-hidden' }, 'Spans as a tree, with when each ran'),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Span'), h('th', { scope: 'col' }, 'Kind'),
      h('th', { scope: 'col', class: 'bar-head' }, h('span', null, '0'), h('span', null, fmt.duration(total / 1e6))),
      h('th', { scope: 'col', class: 'num' }, 'Duration'))),
    body, foot);
  return { table, select };
}

export async function render(url, ctx, id) {
  let detail;
  try {
    detail = await get(`/api/traces/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 400)) {
      return {
        node: h('section', { class: 'view' }, h('h1', { id: 'view-title' }, 'Trace'),
          notice('error', e.status === 404 ? `No trace ${id} in this store.` : e.message), link('/', null, '← All traces')),
        title: 'Trace not found',
      };
    }
    throw e;
  }
  const { trace, spans } = detail;
  const linked = linkedTraces(detail.links || [], detail.linked_from || []);
  const tokens = trace.input_tokens + trace.output_tokens;
  const header = h('header', { class: 'trace-head' },
    h('p', { class: 'crumbs' }, link('/', null, '← Traces')),
    h('h1', { id: 'view-title' }, trace.name || '(unnamed)', ' ', statusBadge(trace.status)),
    h('dl', { class: 'facts' },
      h('div', null, h('dt', null, 'Trace'), h('dd', null, h('code', null, trace.trace_id))),
      h('div', null, h('dt', null, 'Workflow'), h('dd', null, trace.workflow || '—')),
      h('div', null, h('dt', null, 'Started'), h('dd', null, h('time', { datetime: trace.start, title: trace.start }, fmt.time(trace.start)))),
      h('div', null, h('dt', null, 'Duration'), h('dd', null, fmt.duration(trace.duration_ms))),
      h('div', null, h('dt', null, 'Spans'), h('dd', null, fmt.int(trace.span_count),
        trace.error_count ? h('span', { class: 'error-text' }, ` (${trace.error_count} failed)`) : null)),
      h('div', null, h('dt', null, 'Tokens'), h('dd', null, tokens
        ? `${fmt.int(trace.input_tokens)} in · ${fmt.int(trace.output_tokens)} out`
        : '—')),
      h('div', null, h('dt', null, 'Cost'), h('dd', { id: 'trace-cost', title: trace.unpriced_spans ? `${trace.unpriced_spans} LLM call(s) without a known price` : null },
        trace.cost_usd != null ? fmt.usd(trace.cost_usd) : '—',
        trace.cost_usd != null && trace.unpriced_spans ? h('span', { class: 'muted' }, ' + unpriced') : null))));
  if (!trace.has_root) {
    header.append(notice('info', 'The root span has not arrived, so this trace has no end-user: it may still be coming, or this is a partial trace (a service kept its part while the service before it sampled its own part out).'));
  }

  const detailsSlot = h('div', { class: 'details-slot' });
  const view = h('section', { class: 'view', 'aria-labelledby': 'view-title' }, header);
  if (!spans.length) {
    view.append(notice('empty', 'This trace has no spans.'));
    return { node: view, title: trace.name || 'Trace' };
  }
  const { table, select } = waterfall(spans, (span) => detailsSlot.replaceChildren(spanDetails(span)));
  view.append(
    h('div', { class: 'trace-grid' },
      h('section', { class: 'panel', 'aria-labelledby': 'tree-title' },
        h('h2', { id: 'tree-title' }, 'Spans'),
        h('div', { class: 'table-wrap' }, table)),
      h('div', { class: 'side' }, identityPanel(trace), linked, detailsSlot)));
  select(0);
  return { node: view, title: trace.name || 'Trace' };
}
