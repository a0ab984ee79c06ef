import { NeatlogsError } from './errors.js';
import { attributes, defaults, resolve, type Resolved } from './identity.js';
import { buildTrace } from './payload.js';
import { DEFAULT_ENDPOINT, post, traceUrl } from './transport.js';
import type {
  FetchLike,
  FinishInput,
  NeatlogsOptions,
  SendResult,
  SpanInput,
  TraceInput,
  TrackAIInput,
} from './types.js';

const NOT_SENT: SendResult = Object.freeze({ sent: false }) as SendResult;

function warn(error: NeatlogsError): void {
  if (typeof console !== 'undefined') console.warn(error.message);
}

/**
 * The browser SDK client. One per app, usually with the signed-in user as
 * the default end-user.
 *
 * ```ts
 * import { Neatlogs } from 'neatlogs/browser';
 * const nl = new Neatlogs({ apiKey: 'nlw_...', project: 'my-app', endUser: 'u_812', endUserMetadata: { plan: 'pro' } });
 * await nl.trackAI({ name: 'chat', model: 'gpt-4o', input, output, endUser: 'u_999' }); // per call wins
 * ```
 *
 * Calls never throw and never reject: a bad argument or a failed request
 * goes to `onError`, and the call resolves to `{ sent: false }`.
 */
export class Neatlogs {
  readonly project: string | undefined;
  readonly enabled: boolean;
  /** Where traces are POSTed. */
  readonly url: string;
  readonly #apiKey: string;
  readonly #identity: Resolved;
  readonly #onError: (error: NeatlogsError) => void;
  readonly #fetch: FetchLike | undefined;
  readonly #pending = new Set<Promise<SendResult>>();

  /** Throws a `NeatlogsError` (kind `config`) without an `apiKey` or with a bad `endpoint`. */
  constructor(options: NeatlogsOptions) {
    if (options === null || typeof options !== 'object') {
      throw new NeatlogsError('config', "options are required: new Neatlogs({ apiKey: 'nlw_...' })");
    }
    this.enabled = options.enabled !== false;
    const apiKey = typeof options.apiKey === 'string' ? options.apiKey.trim() : '';
    if (!apiKey && this.enabled) {
      throw new NeatlogsError(
        'config',
        "apiKey is required: new Neatlogs({ apiKey: 'nlw_...' }) (pass enabled: false to turn tracing off instead)",
      );
    }
    this.#apiKey = apiKey;
    this.project = typeof options.project === 'string' && options.project ? options.project : undefined;
    this.url = traceUrl(options.endpoint ?? DEFAULT_ENDPOINT);
    const onError = options.onError;
    this.#onError = typeof onError === 'function' ? onError : warn;
    this.#fetch = options.fetch;
    const { resolved, errors } = defaults(options);
    this.#identity = resolved;
    for (const error of errors) this.#report(error);
  }

  #report(error: NeatlogsError): void {
    try {
      this.#onError(error);
    } catch {
      // An onError that throws must not break the app either.
    }
  }

  #track(promise: Promise<SendResult>): Promise<SendResult> {
    this.#pending.add(promise);
    promise.finally(() => this.#pending.delete(promise));
    return promise;
  }

  async #send(root: SpanInput, identityOf: TraceInput): Promise<SendResult> {
    if (!this.enabled) return NOT_SENT;
    try {
      const identity = resolve(identityOf, this.#identity);
      if (identity instanceof NeatlogsError) {
        this.#report(identity);
        return NOT_SENT;
      }
      const built = buildTrace(root, attributes(identity), this.project, Date.now());
      if (built instanceof NeatlogsError) {
        this.#report(built);
        return NOT_SENT;
      }
      const fetchImpl = this.#fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : undefined);
      if (!fetchImpl) {
        this.#report(new NeatlogsError('transport', 'no fetch() in this environment; pass options.fetch'));
        return NOT_SENT;
      }
      const result = await post(fetchImpl, this.url, this.#apiKey, built.body);
      if (result instanceof NeatlogsError) {
        this.#report(result);
        return NOT_SENT;
      }
      return result.traceId !== undefined ? { sent: true, traceId: result.traceId } : { sent: true };
    } catch (e) {
      this.#report(new NeatlogsError('transport', `unexpected failure: ${(e as Error)?.message ?? String(e)}`, { cause: e }));
      return NOT_SENT;
    }
  }

  /** One LLM call as a trace of its own (`kind` defaults to `llm`). */
  trackAI(call: TrackAIInput): Promise<SendResult> {
    const input = call && typeof call === 'object' ? { ...call, kind: call.kind ?? 'llm' } : call;
    return this.#track(this.#send(input as SpanInput, (call ?? {}) as TraceInput));
  }

  /** A trace with children: `trace({ name, children: [{ name, kind: 'llm', .. }] })`. */
  trace(trace: TraceInput): Promise<SendResult> {
    const input = trace && typeof trace === 'object' ? { ...trace, kind: trace.kind ?? 'workflow' } : trace;
    return this.#track(this.#send(input as SpanInput, (trace ?? {}) as TraceInput));
  }

  /**
   * Starts a trace now and sends it at `finish(..)`, for streamed responses:
   * ```ts
   * const t = nl.startTrace({ name: 'chat', model: 'gpt-4o', input });
   * for await (const chunk of stream) text += chunk;
   * await t.finish({ output: text, tokens: { prompt: 12, completion: 80 } });
   * ```
   */
  startTrace(trace: TraceInput): TraceHandle {
    return new TraceHandle(trace, (root, identity) => this.#track(this.#send(root, identity)), (e) => this.#report(e));
  }

  /** Waits for every trace in flight (before a test ends, or a single-page app tears down). */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}

/** A trace started by `startTrace`, sent once by `finish`. */
export class TraceHandle {
  readonly #start = Date.now();
  readonly #trace: TraceInput;
  readonly #children: SpanInput[] = [];
  readonly #send: (root: SpanInput, identity: TraceInput) => Promise<SendResult>;
  readonly #report: (error: NeatlogsError) => void;
  #finished = false;

  constructor(
    trace: TraceInput,
    send: (root: SpanInput, identity: TraceInput) => Promise<SendResult>,
    report: (error: NeatlogsError) => void,
  ) {
    this.#trace = trace && typeof trace === 'object' ? trace : ({} as TraceInput);
    this.#send = send;
    this.#report = report;
  }

  /** Whether `finish` was called. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Adds a child span (a tool call, a retrieval) before `finish`. */
  addChild(span: SpanInput): this {
    if (this.#finished) {
      this.#report(new NeatlogsError('invalid_argument', `addChild after finish on trace ${JSON.stringify(this.#trace.name)}`));
    } else {
      this.#children.push(span);
    }
    return this;
  }

  /** Ends the trace now and sends it. A second call is reported and ignored. */
  finish(result: FinishInput = {}): Promise<SendResult> {
    if (this.#finished) {
      this.#report(new NeatlogsError('invalid_argument', `finish called twice on trace ${JSON.stringify(this.#trace.name)}`));
      return Promise.resolve(NOT_SENT);
    }
    this.#finished = true;
    const end = Date.now();
    const r = result && typeof result === 'object' ? result : {};
    const root: TraceInput = {
      ...this.#trace,
      kind: this.#trace.kind ?? (this.#trace.model || r.model ? 'llm' : 'workflow'),
      ...definedOnly(r),
      children: [...(this.#trace.children ?? []), ...this.#children, ...(r.children ?? [])],
      start: this.#start,
      end: Math.max(end, this.#start),
    };
    delete root.durationMs;
    return this.#send(root, this.#trace);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
