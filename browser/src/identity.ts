// Who a trace is for, resolved as one unit: the source that gives the
// end-user id (the call, else the client default) also gives its metadata,
// so the default user's metadata never lands on another user's trace.

import { NeatlogsError } from './errors.js';
import type { Identity, Metadata } from './types.js';

/** Longest end-user or session id accepted, in characters (as the Rust SDK). */
export const MAX_ID_CHARS = 256;
/** Largest end-user metadata accepted, in bytes of JSON (as the Rust SDK). */
export const MAX_METADATA_BYTES = 16 * 1024;

/** Attribute keys that carry identity; only the SDK sets them, on the root. */
export const IDENTITY_KEYS = [
  'neatlogs.end_user.id',
  'enduser.id',
  'neatlogs.end_user.metadata',
  'neatlogs.session.id',
  'session.id',
] as const;

/** The identity a trace is sent with. */
export interface Resolved {
  endUser?: string;
  /** The metadata as JSON text (an object). */
  metadata?: string;
  sessionId?: string;
}

/** A plain object: `{}` or `Object.create(null)`, not an array, Date, Map, class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A value's type for an error message: `null`, `an array`, `a Date object`, `a string`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'non-plain'} object`;
  return `a ${typeof value}`;
}

/** An `invalid_argument` error: the trace is reported, not sent. */
export function invalid(message: string): NeatlogsError {
  return new NeatlogsError('invalid_argument', message);
}

/**
 * An id as given: `undefined` for not given (absent or empty), the id when
 * valid, an error when it is not a string, too long, has control or
 * bidirectional-text control characters, is blank or has whitespace at
 * either end (the Rust SDK's and the collector's rule).
 */
export function checkId(what: string, value: unknown): string | undefined | NeatlogsError {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') return invalid(`${what} must be a string, got ${describe(value)}`);
  const chars = Array.from(value);
  if (chars.length > MAX_ID_CHARS) {
    return invalid(`${what} is ${chars.length} characters long; the maximum is ${MAX_ID_CHARS}`);
  }
  // C0, DEL and C1 controls: what Rust's char::is_control() rejects.
  const position = chars.findIndex((c) => /[\u0000-\u001f\u007f-\u009f]/.test(c));
  if (position >= 0) return invalid(`${what} contains a control character at position ${position}`);
  // Bidi_Control characters: they make an id display as another one.
  const bidi = chars.findIndex((c) => /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(c));
  if (bidi >= 0) {
    const code = chars[bidi].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return invalid(`${what} contains a bidirectional-text control character (U+${code}) at position ${bidi}`);
  }
  // Unicode White_Space at either end (what Rust's char::is_whitespace()
  // matches): ids are rejected, never trimmed, and a blank id is invalid.
  if (WHITESPACE.test(chars[0]) || WHITESPACE.test(chars[chars.length - 1])) {
    return invalid(`${what} is blank or starts or ends with whitespace; ids are not trimmed`);
  }
  return value;
}

/** One Unicode White_Space character (the set Rust's `char::is_whitespace` uses). */
const WHITESPACE = /^[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;

/** End-user metadata as JSON text, or an error when it is not a plain object or too large. */
export function checkMetadata(what: string, value: unknown): string | undefined | NeatlogsError {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) return invalid(`${what} must be a plain object, got ${describe(value)}`);
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (e) {
    return invalid(`${what} cannot be turned into JSON: ${(e as Error).message}`);
  }
  const bytes = new TextEncoder().encode(json).length;
  if (bytes > MAX_METADATA_BYTES) {
    return invalid(`${what} is ${bytes} bytes of JSON; the maximum is ${MAX_METADATA_BYTES}`);
  }
  return json;
}

/** The end-user a call names (`endUser`, or its alias `endUserId`). */
function namedUser(what: string, identity: Identity): string | undefined | NeatlogsError {
  const a = checkId(`${what}.endUser`, identity.endUser);
  if (a instanceof NeatlogsError) return a;
  const b = checkId(`${what}.endUserId`, identity.endUserId);
  if (b instanceof NeatlogsError) return b;
  if (a !== undefined && b !== undefined && a !== b) {
    return invalid(`${what} gives both endUser (${a}) and endUserId (${b}); they are aliases, give one`);
  }
  return a ?? b;
}

/**
 * The client's default identity, checked once at construction. An invalid
 * part is dropped and reported, never guessed at: a bad id leaves no
 * default end-user (and so no default metadata), bad metadata leaves the id
 * without metadata.
 */
export function defaults(options: Identity): { resolved: Resolved; errors: NeatlogsError[] } {
  const errors: NeatlogsError[] = [];
  const keep = <T>(value: T | NeatlogsError): T | undefined => {
    if (value instanceof NeatlogsError) {
      errors.push(value);
      return undefined;
    }
    return value;
  };
  const endUser = keep(namedUser('options', options));
  const metadata = keep(checkMetadata('options.endUserMetadata', options.endUserMetadata));
  const sessionId = keep(checkId('options.sessionId', options.sessionId));
  return { resolved: { endUser, metadata: endUser !== undefined ? metadata : undefined, sessionId }, errors };
}

/** A call's identity over the client default: per call > default > none. */
export function resolve(call: Identity, fallback: Resolved): Resolved | NeatlogsError {
  const endUser = namedUser('trace', call);
  if (endUser instanceof NeatlogsError) return endUser;
  const metadata = checkMetadata('trace.endUserMetadata', call.endUserMetadata);
  if (metadata instanceof NeatlogsError) return metadata;
  const sessionId = checkId('trace.sessionId', call.sessionId);
  if (sessionId instanceof NeatlogsError) return sessionId;
  const user: Pick<Resolved, 'endUser' | 'metadata'> =
    endUser !== undefined ? { endUser, metadata } : { endUser: fallback.endUser, metadata: fallback.metadata };
  return { ...user, sessionId: sessionId ?? fallback.sessionId };
}

/** Identity attributes for a trace root. */
export function attributes(identity: Resolved): Metadata {
  const out: Metadata = {};
  if (identity.endUser !== undefined) {
    out['neatlogs.end_user.id'] = identity.endUser;
    out['enduser.id'] = identity.endUser;
    if (identity.metadata !== undefined) out['neatlogs.end_user.metadata'] = identity.metadata;
  }
  if (identity.sessionId !== undefined) out['neatlogs.session.id'] = identity.sessionId;
  return out;
}
