import type { NeatlogsError } from './errors.js';

/** A JSON object: end-user metadata, span metadata. */
export type Metadata = Record<string, unknown>;

/** A span kind as the collector and the Neatlogs backend know them. */
export type SpanKind =
  | 'workflow'
  | 'agent'
  | 'chain'
  | 'tool'
  | 'retriever'
  | 'embedding'
  | 'guardrail'
  | 'mcp_tool'
  | 'llm'
  | (string & {});

/** A point in time: a `Date`, epoch milliseconds, or an RFC 3339 string. */
export type Time = Date | number | string;

/** LLM token usage. `total` defaults to `prompt + completion`. */
export interface Tokens {
  prompt?: number;
  completion?: number;
  total?: number;
}

/** The `fetch` the SDK sends with (the global one unless given). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options of `new Neatlogs(..)`. */
export interface NeatlogsOptions {
  /** Required: the project's API key, sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  /** The project (the workflow) the traces belong to. */
  project?: string;
  /**
   * Where traces go: the Neatlogs cloud unless given; `http://127.0.0.1:4318`
   * for the local collector (`neatlogs serve`). `/v1/trace` is appended.
   */
  endpoint?: string;
  /** The default end-user: the person using your app, for every trace that names none. */
  endUser?: string;
  /** Alias of `endUser`. */
  endUserId?: string;
  /** Metadata of the default end-user (a plain object); only sent with that user. */
  endUserMetadata?: Metadata;
  /** The default session (a conversation); a call's `sessionId` wins. */
  sessionId?: string;
  /** `false` turns every call into a no-op (default `true`). */
  enabled?: boolean;
  /** Receives every error; the default logs with `console.warn`. Never throws into your app. */
  onError?: (error: NeatlogsError) => void;
  /** The `fetch` to send with (default: `globalThis.fetch`). */
  fetch?: FetchLike;
}

/** Who a trace is for. Only honoured on a trace's root. */
export interface Identity {
  /** The end-user of this trace; wins over the client default. */
  endUser?: string;
  /** Alias of `endUser`. */
  endUserId?: string;
  /** This end-user's metadata; sent only with a per-call `endUser`. */
  endUserMetadata?: Metadata;
  /** The session of this trace; wins over the client default. */
  sessionId?: string;
}

/** One span of a trace, with its children. */
export interface SpanInput {
  /** Required, not empty. */
  name: string;
  kind?: SpanKind;
  input?: unknown;
  output?: unknown;
  model?: string;
  tokens?: Tokens;
  /** Span metadata (a plain object). */
  metadata?: Metadata;
  /** Extra span attributes. Identity keys are set by the SDK and ignored here. */
  attributes?: Record<string, unknown>;
  children?: SpanInput[];
  /** Duration in milliseconds; children without times run one after another. */
  durationMs?: number;
  start?: Time;
  end?: Time;
  /** Marks the span failed; the message (or the Error's) is kept. */
  error?: unknown;
  status?: 'ok' | 'error';
  /** Ignored on a child: a trace has one end-user, set on its root. */
  endUser?: string;
  /** Ignored on a child. */
  endUserId?: string;
  /** Ignored on a child. */
  endUserMetadata?: Metadata;
}

/** A trace: its root span plus who it is for. */
export interface TraceInput extends SpanInput, Identity {}

/** One LLM call as a trace of its own (`kind` defaults to `llm`). */
export type TrackAIInput = TraceInput;

/** What `startTrace(..).finish(..)` adds once a streamed call is done. */
export interface FinishInput {
  output?: unknown;
  tokens?: Tokens;
  model?: string;
  error?: unknown;
  status?: 'ok' | 'error';
  metadata?: Metadata;
  attributes?: Record<string, unknown>;
  children?: SpanInput[];
}

/** How a call ended. Calls never reject. */
export interface SendResult {
  /** Whether the collector accepted the trace. */
  sent: boolean;
  /** The trace id the collector gave it, when it says. */
  traceId?: string;
}
