/**
 * What went wrong, for `onError`:
 * - `config`: the options given to `new Neatlogs(..)` (thrown, at construction only);
 * - `invalid_argument`: a call's arguments (the trace is not sent);
 * - `transport`: the request could not be made (offline, blocked, CORS);
 * - `http`: the collector answered with an error status.
 */
export type NeatlogsErrorKind = 'config' | 'invalid_argument' | 'transport' | 'http';

/** An error reported by the SDK. Only `config` errors are ever thrown. */
export class NeatlogsError extends Error {
  readonly kind: NeatlogsErrorKind;
  /** The HTTP status, for `http` errors. */
  readonly status?: number;

  constructor(kind: NeatlogsErrorKind, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(`neatlogs: ${message}`);
    this.name = 'NeatlogsError';
    this.kind = kind;
    if (options.status !== undefined) this.status = options.status;
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
