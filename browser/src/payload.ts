// From the arguments of a call to the simple-trace JSON the collector
// takes on `POST /v1/trace`: checked (a bad argument is reported, never
// sent), laid out in time, with identity only on the root.

import { NeatlogsError } from './errors.js';
import { describe, IDENTITY_KEYS, invalid, isPlainObject } from './identity.js';
import type { Metadata, SpanInput, Time } from './types.js';

/** Deepest nesting the collector accepts. */
export const MAX_DEPTH = 64;

/** One span of the simple-trace JSON. */
export interface WireSpan {
  name: string;
  kind?: string;
  input?: unknown;
  output?: unknown;
  model?: string;
  tokens?: { prompt?: number; completion?: number; total?: number };
  metadata?: Metadata;
  attributes?: Metadata;
  children?: WireSpan[];
  /** Epoch milliseconds. */
  start: number;
  /** Epoch milliseconds. */
  end: number;
  duration_ms: number;
  status?: 'ok' | 'error';
  error?: string;
  project?: string;
}

/** A checked span, before it is placed in time. */
interface Checked {
  input: SpanInput;
  start?: number;
  end?: number;
  duration?: number;
  error?: string;
  children: Checked[];
}

function ms(what: string, time: Time | undefined): number | undefined | NeatlogsError {
  if (time === undefined || time === null) return undefined;
  const value = time instanceof Date ? time.getTime() : typeof time === 'string' ? Date.parse(time) : time;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    return invalid(`${what} must be a Date, epoch milliseconds or an ISO 8601 string`);
  }
  return value;
}

function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null || error === false) return undefined;
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error || 'error';
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}

function check(span: SpanInput, path: string, depth: number): Checked | NeatlogsError {
  if (depth > MAX_DEPTH) return invalid(`${path}: traces nest at most ${MAX_DEPTH} levels deep`);
  if (!isPlainObject(span)) return invalid(`${path} must be an object, got ${describe(span)}`);
  if (typeof span.name !== 'string' || span.name.trim() === '') {
    return invalid(`${path}.name must be a non-empty string`);
  }
  for (const key of ['kind', 'model'] as const) {
    if (span[key] !== undefined && typeof span[key] !== 'string') {
      return invalid(`${path}.${key} must be a string, got ${describe(span[key])}`);
    }
  }
  for (const key of ['metadata', 'attributes', 'tokens'] as const) {
    if (span[key] !== undefined && !isPlainObject(span[key])) {
      return invalid(`${path}.${key} must be a plain object, got ${describe(span[key])}`);
    }
  }
  if (span.tokens) {
    for (const [key, n] of Object.entries(span.tokens)) {
      if (n !== undefined && (typeof n !== 'number' || !Number.isFinite(n) || n < 0)) {
        return invalid(`${path}.tokens.${key} must be a non-negative number`);
      }
    }
  }
  if (span.durationMs !== undefined
    && (typeof span.durationMs !== 'number' || !Number.isFinite(span.durationMs) || span.durationMs < 0)) {
    return invalid(`${path}.durationMs must be a non-negative number of milliseconds`);
  }
  if (span.status !== undefined && span.status !== 'ok' && span.status !== 'error') {
    return invalid(`${path}.status must be 'ok' or 'error'`);
  }
  if (span.children !== undefined && !Array.isArray(span.children)) {
    return invalid(`${path}.children must be an array, got ${describe(span.children)}`);
  }
  const start = ms(`${path}.start`, span.start);
  if (start instanceof NeatlogsError) return start;
  const end = ms(`${path}.end`, span.end);
  if (end instanceof NeatlogsError) return end;
  if (start !== undefined && end !== undefined && end < start) return invalid(`${path}.end is before its start`);
  const children: Checked[] = [];
  for (const [i, child] of (span.children ?? []).entries()) {
    const checked = check(child, `${path}.children[${i}]`, depth + 1);
    if (checked instanceof NeatlogsError) return checked;
    children.push(checked);
  }
  return { input: span, start, end, duration: span.durationMs, error: errorText(span.error), children };
}

/** How long a span takes when it does not say: its children, one after another. */
function natural(span: Checked): number {
  if (span.start !== undefined && span.end !== undefined) return span.end - span.start;
  if (span.duration !== undefined) return span.duration;
  return span.children.reduce((sum, child) => sum + natural(child), 0);
}

function withoutIdentity(attributes: Metadata | undefined): Metadata {
  const out: Metadata = { ...(attributes ?? {}) };
  for (const key of IDENTITY_KEYS) delete out[key];
  return out;
}

function place(span: Checked, defaultStart: number, identity: Metadata | undefined): WireSpan {
  const length = natural(span);
  const start = span.start ?? (span.end !== undefined ? span.end - length : defaultStart);
  const end = span.end ?? start + length;
  const s = span.input;
  const attributes = { ...withoutIdentity(s.attributes), ...(identity ?? {}) };
  const wire: WireSpan = { name: s.name, start, end, duration_ms: end - start };
  if (s.kind !== undefined) wire.kind = s.kind;
  if (s.input !== undefined) wire.input = s.input;
  if (s.output !== undefined) wire.output = s.output;
  if (s.model !== undefined) wire.model = s.model;
  if (s.tokens) {
    const { prompt, completion } = s.tokens;
    const total = s.tokens.total ?? (prompt !== undefined || completion !== undefined ? (prompt ?? 0) + (completion ?? 0) : undefined);
    wire.tokens = { prompt, completion, total };
  }
  if (s.metadata !== undefined) wire.metadata = s.metadata;
  if (Object.keys(attributes).length) wire.attributes = attributes;
  if (span.error !== undefined) {
    wire.status = 'error';
    wire.error = span.error;
  } else if (s.status !== undefined) {
    wire.status = s.status;
  }
  let cursor = start;
  const children = span.children.map((child) => {
    const placed = place(child, cursor, undefined);
    cursor = placed.end;
    return placed;
  });
  if (children.length) wire.children = children;
  return wire;
}

/**
 * The simple-trace JSON for a root span, its identity attributes and
 * project, or the first problem with the arguments. A root without times
 * ends `now`; children without times run one after another from their
 * parent's start.
 */
export function buildTrace(
  root: SpanInput,
  identity: Metadata,
  project: string | undefined,
  now: number,
): { wire: WireSpan; body: string } | NeatlogsError {
  const checked = check(root, 'trace', 0);
  if (checked instanceof NeatlogsError) return checked;
  const length = natural(checked);
  const defaultStart = (checked.end ?? now) - length;
  const wire = place(checked, defaultStart, identity);
  if (project) wire.project = project;
  let body: string;
  try {
    body = JSON.stringify(wire);
  } catch (e) {
    return invalid(`the trace cannot be turned into JSON (${(e as Error).message}); check input and output`);
  }
  return { wire, body };
}
