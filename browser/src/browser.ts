/**
 * The Neatlogs browser SDK: trace the AI calls of a web app and attach the
 * app's end-user (the person using it) to every trace.
 *
 * ```ts
 * import { Neatlogs } from 'neatlogs/browser';
 *
 * const nl = new Neatlogs({
 *   apiKey: 'nlw_...',
 *   project: 'my-app',
 *   endpoint: 'http://127.0.0.1:4318', // the local collector; default: the Neatlogs cloud
 *   endUser: 'u_812',                   // the default end-user of this page
 *   endUserMetadata: { plan: 'pro' },
 * });
 * await nl.trackAI({ name: 'chat', model: 'gpt-4o', input, output, endUser: 'u_999' }); // per call wins
 * ```
 *
 * Identity: one end-user per trace, on its root; a call's `endUser` (with
 * its own metadata) wins over the client default (with the default's
 * metadata); a child's `endUser` is ignored. Errors never reach your code:
 * they go to `onError`.
 *
 * @module
 */

export { Neatlogs, TraceHandle } from './client.js';
export { NeatlogsError, type NeatlogsErrorKind } from './errors.js';
export { MAX_ID_CHARS, MAX_METADATA_BYTES } from './identity.js';
export { DEFAULT_ENDPOINT } from './transport.js';
export type {
  FetchLike,
  FinishInput,
  Identity,
  Metadata,
  NeatlogsOptions,
  SendResult,
  SpanInput,
  SpanKind,
  Time,
  Tokens,
  TraceInput,
  TrackAIInput,
} from './types.js';
