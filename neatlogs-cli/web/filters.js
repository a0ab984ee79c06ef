// The Filters control: a builder (field, operator, value) that adds
// removable chips, and a query box that takes the filter language as text.
// Chips live in the URL as `f` parameters, one clause each, and combine
// with AND. Text is only ever *written* here (values are quoted); reading
// it back into clauses is the server's job (`GET /api/filter`), so the page
// and the CLI share one parser.

import { h } from './dom.js';
import { get, ApiError } from './api.js';

/** Fields the builder offers, as the filter language names them. */
export const FIELDS = [
  { id: 'end_user', label: 'End-user' },
  { id: 'session', label: 'Session' },
  { id: 'workflow', label: 'Workflow' },
  { id: 'name', label: 'Name' },
  { id: 'status', label: 'Status' },
  { id: 'metadata', label: 'metadata:KEY' },
];

/** Operators the builder offers. */
export const OPERATORS = [
  'is', 'is not', 'contains', 'does not contain', 'starts with', 'ends with', 'is any of', 'is set', 'is not set',
];

const NO_VALUE = new Set(['is set', 'is not set']);
const LISTS = new Set(['is any of', 'is none of']);

/** A value as a double-quoted filter-language string (always valid). */
export function quote(value) {
  return `"${String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** One clause as filter-language text. */
export function clauseText(field, key, op, value) {
  const left = field === 'metadata' ? `metadata:${quote(key)}` : field;
  if (NO_VALUE.has(op)) return `${left} ${op}`;
  if (LISTS.has(op)) {
    const values = String(value).split(',').map((v) => v.trim()).filter(Boolean);
    return `${left} ${op} ${values.map(quote).join(', ')}`;
  }
  return `${left} ${op} ${quote(value)}`;
}

/** The filter a page URL carries: its `f` parameters joined with `and`. */
export function filterOf(url) {
  return url.searchParams.getAll('f').map((f) => f.trim()).filter(Boolean).join(' and ');
}

/** Parses filter text on the server: `{ filter, clauses: [{ text, field, key, op, values }] }`. */
export function parseFilter(text) {
  return get('/api/filter', { filter: text });
}

/**
 * Parses the filter a page URL carries and appends the Filters control to
 * `view`. Resolves to the parsed filter (as `parseFilter`), or to `null`
 * when it does not parse: the control then shows the error, and the view
 * has nothing else to show.
 */
export async function addFilterBar(view, url, onChange) {
  const text = filterOf(url);
  let parsed;
  try {
    parsed = await parseFilter(text);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    view.append(filterBar({ text, error: e, onChange }));
    return null;
  }
  view.append(filterBar({ clauses: parsed.clauses, text: parsed.filter, onChange }));
  return parsed;
}

let metadataKeys;
/** The metadata keys seen, fetched once per page load. */
function loadMetadataKeys() {
  metadataKeys ??= get('/api/metadata-keys').then((r) => r.keys).catch(() => []);
  return metadataKeys;
}

function fieldLabel(clause) {
  if (clause.field === 'metadata') return `metadata:${clause.key}`;
  return (FIELDS.find((f) => f.id === clause.field) || { label: clause.field }).label;
}

function errorText(error) {
  return error instanceof ApiError ? error.message : String(error);
}

/**
 * The Filters control.
 * - `clauses`: the current clauses (from `parseFilter`), shown as chips.
 * - `text`: the current filter as text, shown in the query box.
 * - `error`: an `ApiError` for a filter in the URL that does not parse.
 * - `onChange(texts)`: called with the new list of clause texts.
 */
export function filterBar({ clauses = [], text = '', error = null, onChange }) {
  const set = (texts) => onChange(texts);
  const current = clauses.map((c) => c.text);

  // Chips.
  const chips = h('ul', { class: 'chips', 'aria-label': 'Active filters' },
    clauses.map((clause, i) => h('li', { class: 'chip', 'data-filter': clause.text },
      h('span', { class: 'chip-field' }, fieldLabel(clause)), ' ',
      h('span', { class: 'chip-op' }, clause.op),
      clause.values.length ? [' ', h('span', { class: 'chip-value' }, clause.values.join(', '))] : null,
      h('button', {
        type: 'button',
        class: 'chip-remove',
        'aria-label': `Remove filter: ${clause.text}`,
        title: 'Remove filter',
        onclick: () => set(current.filter((_, j) => j !== i)),
      }, '×'))));
  const clearAll = clauses.length
    ? h('button', { type: 'button', class: 'link-button', onclick: () => set([]) }, 'Clear all')
    : null;

  // Builder.
  const builderError = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const field = h('select', { id: 'filter-field', name: 'field' },
    FIELDS.map((f) => h('option', { value: f.id }, f.label)));
  const keyList = h('datalist', { id: 'metadata-keys' });
  const valueList = h('datalist', { id: 'filter-values' });
  const key = h('input', {
    id: 'filter-key', name: 'key', list: 'metadata-keys', autocomplete: 'off', placeholder: 'plan', size: 12,
  });
  const keyWrap = h('span', { class: 'field', hidden: true },
    h('label', { for: 'filter-key' }, 'Metadata key'), key);
  const op = h('select', { id: 'filter-op', name: 'op' }, OPERATORS.map((o) => h('option', { value: o }, o)));
  const value = h('input', {
    id: 'filter-value', name: 'value', list: 'filter-values', autocomplete: 'off', placeholder: 'u_812', size: 18,
  });
  const valueWrap = h('span', { class: 'field' }, h('label', { for: 'filter-value' }, 'Value'), value);

  const keys = new Map();
  const refreshValues = () => {
    const known = field.value === 'metadata' ? keys.get(key.value.trim()) : null;
    valueList.replaceChildren(...(known ? known.values.map((v) => h('option', { value: v.value }, `${v.traces} traces`)) : []));
  };
  const refresh = () => {
    keyWrap.hidden = field.value !== 'metadata';
    valueWrap.hidden = NO_VALUE.has(op.value);
    value.placeholder = LISTS.has(op.value) ? 'u_1, u_2' : field.value === 'status' ? 'error' : field.value === 'metadata' ? 'pro' : 'u_812';
    refreshValues();
    if (field.value === 'metadata') {
      loadMetadataKeys().then((list) => {
        for (const k of list) keys.set(k.key, k);
        keyList.replaceChildren(...list.map((k) => h('option', { value: k.key }, `${k.traces} traces`)));
        refreshValues();
      });
    }
  };
  field.addEventListener('change', refresh);
  op.addEventListener('change', refresh);
  key.addEventListener('input', refreshValues);

  const builder = h('form', {
    class: 'builder',
    'aria-label': 'Add a filter',
    onsubmit: async (event) => {
      event.preventDefault();
      builderError.hidden = true;
      if (field.value === 'metadata' && !key.value.trim()) {
        builderError.textContent = 'Type or pick a metadata key.';
        builderError.hidden = false;
        key.focus();
        return;
      }
      if (!NO_VALUE.has(op.value) && !value.value.trim()) {
        builderError.textContent = 'Type a value.';
        builderError.hidden = false;
        value.focus();
        return;
      }
      const clause = clauseText(field.value, key.value.trim(), op.value, value.value.trim());
      try {
        const parsed = await parseFilter(clause);
        set([...current, ...parsed.clauses.map((c) => c.text)]);
      } catch (e) {
        builderError.textContent = errorText(e);
        builderError.hidden = false;
      }
    },
  },
  h('span', { class: 'field' }, h('label', { for: 'filter-field' }, 'Field'), field),
  keyWrap,
  h('span', { class: 'field' }, h('label', { for: 'filter-op' }, 'Operator'), op),
  valueWrap,
  h('button', { type: 'submit', class: 'primary' }, 'Add filter'),
  keyList, valueList, builderError);

  // Query box.
  const queryError = h('p', { class: 'field-error', role: 'alert', hidden: !error }, error ? errorText(error) : '');
  const input = h('input', {
    id: 'filter-query',
    name: 'q',
    value: text,
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: 'end_user starts with u_8 and metadata:plan is pro',
    'aria-describedby': 'filter-query-help',
  });
  const showError = (e) => {
    queryError.textContent = errorText(e);
    queryError.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    if (e instanceof ApiError && e.column) {
      const at = Math.max(0, Math.min(e.column - 1, input.value.length));
      input.focus();
      input.setSelectionRange(at, at);
    }
  };
  if (error) {
    input.setAttribute('aria-invalid', 'true');
  }
  const queryForm = h('form', {
    class: 'query',
    role: 'search',
    'aria-label': 'Filter query',
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        const parsed = await parseFilter(input.value);
        set(parsed.clauses.map((c) => c.text));
      } catch (e) {
        showError(e);
      }
    },
  },
  h('label', { for: 'filter-query' }, 'Query'),
  input,
  h('button', { type: 'submit' }, 'Apply'),
  h('p', { id: 'filter-query-help', class: 'help' },
    'The filter language of the CLI: ', h('code', null, 'end_user starts with u_8'), ', ',
    h('code', null, 'metadata:plan is pro'), ', ', h('code', null, 'status is error'),
    '; clauses combine with ', h('code', null, 'and'), '.'),
  queryError);

  refresh();
  return h('section', { class: 'filters', 'aria-label': 'Filters' },
    h('div', { class: 'chip-row' }, h('span', { class: 'chips-label' }, 'Filters'), chips,
      clauses.length ? null : h('span', { class: 'muted' }, 'none: every trace'), clearAll),
    builder, queryForm);
}
