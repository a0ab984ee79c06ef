// A span's content for people: an LLM call as a chat transcript (the
// messages by role, the reply, the tool calls it asked for) with its model,
// tokens, TTFT and cost; any other span's captured input and output,
// pretty-printed when they are JSON.
//
// LLM data is read from the span's attributes in any of the three
// vocabularies, the same precedence as the collector: the Neatlogs SDKs'
// `neatlogs.llm.*`, then OpenInference's `llm.*`, then OpenTelemetry
// GenAI's `gen_ai.*`. Everything is inserted as text (dom.js builds no
// markup), so a prompt holding HTML shows as that HTML's text.

import { h } from './dom.js';
import * as fmt from './format.js';

const NEATLOGS = 'neatlogs.llm.';
const OPENINFERENCE = 'llm.';

/** The first attribute among `keys` that is set (not null, not ''). */
function first(attrs, keys) {
  for (const key of keys) {
    const v = attrs[key];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

/** A JSON text parsed, or `undefined` when it is not JSON. */
function parseJson(text) {
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (!t || !'{["'.includes(t[0])) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/**
 * `prefix.N.rest` keys as a list of `{ rest: value }` objects, by index
 * (`llm.input_messages.0.message.role` → `[{ 'message.role': ... }]`).
 */
function indexed(attrs, prefix) {
  const items = new Map();
  for (const [key, value] of Object.entries(attrs)) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    const dot = rest.indexOf('.');
    const index = Number(dot < 0 ? rest : rest.slice(0, dot));
    if (dot < 0 || !Number.isInteger(index) || index < 0) continue;
    if (!items.has(index)) items.set(index, {});
    items.get(index)[rest.slice(dot + 1)] = value;
  }
  return [...items.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
}

/** A tool call from flat keys with or without `tool_call.` / `function.` parts. */
function toolCallFrom(fields) {
  const f = {};
  for (const [k, v] of Object.entries(fields)) f[k.replace(/^tool_call\./, '')] = v;
  const call = {
    id: first(f, ['id']),
    name: first(f, ['function.name', 'name']),
    arguments: first(f, ['function.arguments', 'arguments']),
  };
  return call.name !== undefined || call.arguments !== undefined || call.id !== undefined ? call : null;
}

/** A message from flat keys (`role`, `content`, ... with or without `message.`). */
function messageFrom(fields) {
  const f = {};
  for (const [k, v] of Object.entries(fields)) f[k.replace(/^message\./, '')] = v;
  const calls = indexed(f, 'tool_calls.').map(toolCallFrom).filter(Boolean);
  let content = first(f, ['content']);
  if (content === undefined) {
    const parts = indexed(f, 'contents.').map((p) => first(p, ['message_content.text', 'text']))
      .filter((t) => t !== undefined);
    if (parts.length) content = parts.join('\n');
  }
  return {
    role: String(first(f, ['role']) ?? 'unknown'),
    content,
    name: first(f, ['name']),
    toolCallId: first(f, ['tool_call_id']),
    toolCalls: calls,
  };
}

/** GenAI (semantic conventions 1.37) messages: `[{ role, parts: [...] }]`. */
function genaiMessages(value) {
  const list = Array.isArray(value) ? value : parseJson(value);
  if (!Array.isArray(list)) return [];
  return list.filter((m) => m && typeof m === 'object').map((m) => {
    const parts = Array.isArray(m.parts) ? m.parts : [];
    const texts = [];
    const toolCalls = [];
    let toolCallId;
    for (const part of parts) {
      if (!part || typeof part !== 'object') continue;
      if (part.type === 'text' || part.type === 'reasoning') texts.push(part.content);
      else if (part.type === 'tool_call') toolCalls.push({ id: part.id, name: part.name, arguments: part.arguments });
      else if (part.type === 'tool_call_response') {
        toolCallId = part.id;
        texts.push(typeof part.response === 'string' ? part.response : JSON.stringify(part.response, null, 2));
      } else texts.push(JSON.stringify(part, null, 2));
    }
    const content = texts.length ? texts.join('\n') : (typeof m.content === 'string' ? m.content : undefined);
    return { role: String(m.role ?? 'unknown'), content, name: m.name, toolCallId, toolCalls };
  });
}

/** A message list given as one JSON value (array of `{role, content}`). */
function plainMessages(value) {
  const list = Array.isArray(value) ? value : parseJson(value);
  if (!Array.isArray(list)) return [];
  return list.filter((m) => m && typeof m === 'object').map((m) => messageFrom(m));
}

/** Messages under `which` (`input_messages` or `output_messages`), any convention. */
function messages(attrs, which) {
  for (const prefix of [NEATLOGS, OPENINFERENCE]) {
    const flat = indexed(attrs, `${prefix}${which}.`).map(messageFrom);
    if (flat.length) return flat;
    const whole = plainMessages(attrs[`${prefix}${which}`]);
    if (whole.length) return whole;
  }
  return genaiMessages(attrs[which === 'input_messages' ? 'gen_ai.input.messages' : 'gen_ai.output.messages']);
}

/** The system instructions GenAI keeps apart from the messages. */
function systemInstructions(attrs) {
  const value = attrs['gen_ai.system_instructions'];
  if (value === undefined) return [];
  const parts = Array.isArray(value) ? value : parseJson(value);
  if (!Array.isArray(parts)) return typeof value === 'string' ? [{ role: 'system', content: value, toolCalls: [] }] : [];
  const text = parts.map((p) => (p && typeof p === 'object' ? p.content : p)).filter((t) => t !== undefined).join('\n');
  return text ? [{ role: 'system', content: text, toolCalls: [] }] : [];
}

/** Whether a span is an LLM call (its kind, or LLM attributes on it). */
export function isLlmSpan(span) {
  if (String(span.kind || '').toUpperCase() === 'LLM') return true;
  const attrs = span.attributes || {};
  return Object.keys(attrs).some((k) => k.startsWith(NEATLOGS) || k.startsWith('llm.input_messages.')
    || k.startsWith('llm.output_messages.') || k === 'gen_ai.input.messages' || k === 'gen_ai.output.messages');
}

/** Everything the transcript shows, from a span of the API. */
export function llmCall(span) {
  const attrs = span.attributes || {};
  const input = [...systemInstructions(attrs), ...messages(attrs, 'input_messages')];
  const output = messages(attrs, 'output_messages');
  const extraCalls = indexed(attrs, `${NEATLOGS}tool_calls.`).map(toolCallFrom).filter(Boolean);
  const seen = new Set(output.flatMap((m) => m.toolCalls.map((c) => c.id)).filter(Boolean));
  const toolCalls = [...output.flatMap((m) => m.toolCalls), ...extraCalls.filter((c) => !c.id || !seen.has(c.id))];
  let finish = first(attrs, [`${NEATLOGS}finish_reason`, 'llm.finish_reason', 'gen_ai.response.finish_reasons']);
  if (Array.isArray(finish)) finish = finish.join(', ');
  const total = first(attrs, [`${NEATLOGS}token_count.total`, 'llm.token_count.total', 'gen_ai.usage.total_tokens']);
  return {
    model: span.model ?? first(attrs, [`${NEATLOGS}model_name`, 'llm.model_name', 'gen_ai.response.model', 'gen_ai.request.model']),
    provider: first(attrs, [`${NEATLOGS}provider`, 'llm.provider', 'gen_ai.provider.name', 'gen_ai.system']),
    system: first(attrs, [`${NEATLOGS}system`, 'llm.system']),
    promptTokens: span.input_tokens,
    completionTokens: span.output_tokens,
    totalTokens: total ?? (span.input_tokens != null || span.output_tokens != null
      ? (span.input_tokens || 0) + (span.output_tokens || 0) : undefined),
    cacheReadTokens: span.cache_read_tokens,
    reasoningTokens: span.reasoning_tokens,
    ttftMs: first(attrs, [`${NEATLOGS}metrics.ttft_ms`]),
    finishReason: finish,
    costUsd: span.cost_usd,
    costSource: span.cost_source,
    input,
    output,
    toolCalls,
  };
}

/** Text as it is, or JSON pretty-printed when the text is JSON. */
function pretty(value, mime) {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') return JSON.stringify(value, null, 2);
  const parsed = parseJson(value);
  if (parsed !== undefined && (typeof parsed === 'object' || String(mime || '').includes('json'))) {
    return JSON.stringify(parsed, null, 2);
  }
  return value;
}

function isJson(value, mime) {
  if (value !== null && typeof value === 'object') return true;
  const parsed = parseJson(value);
  return parsed !== undefined && (typeof parsed === 'object' || String(mime || '').includes('json'));
}

/** A captured value in a block: JSON pretty-printed, other text as it is. */
export function ioBlock(value, mime, id) {
  const json = isJson(value, mime);
  return h('pre', { class: json ? 'json io io-json' : 'json io io-text', id, 'data-format': json ? 'json' : 'text' }, pretty(value, mime));
}

function messageItem(message, index) {
  return h('li', { class: `message role-${message.role.toLowerCase().replace(/[^a-z0-9_-]/g, '')}`, 'data-role': message.role, 'data-index': index },
    h('div', { class: 'message-head' },
      h('span', { class: 'role' }, message.role),
      message.name ? h('span', { class: 'muted' }, ` · ${message.name}`) : null,
      message.toolCallId ? h('span', { class: 'muted' }, ` · answers ${message.toolCallId}`) : null),
    message.content !== undefined && message.content !== ''
      ? h('div', { class: 'message-content' }, pretty(message.content))
      : (message.toolCalls.length ? null : h('div', { class: 'message-content muted' }, '(no content)')),
    message.toolCalls.length
      ? h('p', { class: 'help' }, `asks for ${message.toolCalls.map((c) => c.name || 'a tool').join(', ')} (below)`)
      : null);
}

function toolCallItem(call) {
  return h('li', { class: 'tool-call', 'data-tool-name': call.name ?? '' },
    h('div', { class: 'message-head' },
      h('span', { class: 'tool-name' }, call.name ?? '(unnamed tool)'),
      call.id ? h('code', { class: 'muted tool-id' }, ` ${call.id}`) : null),
    call.arguments !== undefined ? h('pre', { class: 'json tool-args' }, pretty(call.arguments, 'application/json')) : null);
}

function fact(key, label, value) {
  if (value === undefined || value === null || value === '') return null;
  return [h('dt', null, label), h('dd', { 'data-fact': key }, value)];
}

/** The chat transcript of an LLM span. */
export function transcript(span) {
  const call = llmCall(span);
  const tokens = call.promptTokens != null || call.completionTokens != null || call.totalTokens != null
    ? `${fmt.int(call.promptTokens)} prompt · ${fmt.int(call.completionTokens)} completion · ${fmt.int(call.totalTokens)} total`
    : undefined;
  const extra = [
    call.cacheReadTokens ? `${fmt.int(call.cacheReadTokens)} from cache` : null,
    call.reasoningTokens ? `${fmt.int(call.reasoningTokens)} reasoning` : null,
  ].filter(Boolean).join(' · ');
  const ttft = call.ttftMs !== undefined && Number.isFinite(Number(call.ttftMs)) ? fmt.duration(Number(call.ttftMs)) : undefined;
  const cost = call.costUsd != null
    ? `${fmt.usd(call.costUsd)}${call.costSource === 'table' ? ' (price table)' : call.costSource === 'sender' ? ' (from the span)' : ''}`
    : (tokens ? 'unknown (no price for this model)' : undefined);
  return h('section', { class: 'transcript', id: 'transcript', 'aria-label': 'LLM call' },
    h('dl', { class: 'kv llm-facts', id: 'llm-facts' },
      fact('model', 'Model', call.model),
      fact('provider', 'Provider', [call.provider, call.system && call.system !== call.provider ? call.system : null].filter(Boolean).join(' · ')),
      fact('tokens', 'Tokens', tokens),
      fact('token-details', '', extra),
      fact('ttft', 'TTFT', ttft),
      fact('finish', 'Finish', call.finishReason),
      fact('cost', 'Cost', cost)),
    h('h3', null, 'Messages'),
    call.input.length
      ? h('ol', { class: 'messages', id: 'input-messages' }, call.input.map(messageItem))
      : h('p', { class: 'muted' }, 'No messages recorded.'),
    h('h3', null, 'Reply'),
    call.output.length
      ? h('ol', { class: 'messages reply', id: 'output-messages' }, call.output.map(messageItem))
      : h('p', { class: 'muted' }, 'No reply recorded.'),
    call.toolCalls.length
      ? [h('h3', null, 'Tool calls'), h('ol', { class: 'tool-calls', id: 'tool-calls' }, call.toolCalls.map(toolCallItem))]
      : null);
}

/** The input or output a span captured (`input.value`, else `neatlogs.<kind>.input`). */
function captured(span, which) {
  const attrs = span.attributes || {};
  const kind = String(span.kind || '').toLowerCase();
  const value = first(attrs, [`${which}.value`, kind ? `neatlogs.${kind}.${which}` : '']);
  const mime = first(attrs, [`${which}.mime_type`, kind ? `neatlogs.${kind}.${which}_mime_type` : '']);
  return { value, mime };
}

/**
 * What a span's details panel shows above its attributes: the transcript of
 * an LLM call, or the captured input and output of any other span.
 */
export function spanContent(span) {
  const input = captured(span, 'input');
  const output = captured(span, 'output');
  const io = (show) => [
    show.input && input.value !== undefined ? [h('h3', null, 'Input'), ioBlock(input.value, input.mime, 'span-input')] : null,
    show.output && output.value !== undefined ? [h('h3', null, 'Output'), ioBlock(output.value, output.mime, 'span-output')] : null,
  ];
  if (!isLlmSpan(span)) return io({ input: true, output: true });
  // An LLM span that recorded no messages may still have captured its
  // prompt and completion as plain input and output.
  const call = llmCall(span);
  return [transcript(span), io({ input: !call.input.length, output: !call.output.length })];
}
