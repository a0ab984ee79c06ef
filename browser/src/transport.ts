// One POST per trace. Never throws: every failure becomes a NeatlogsError
// for `onError`.

import { NeatlogsError } from './errors.js';
import type { FetchLike } from './types.js';

/** The Neatlogs cloud. */
export const DEFAULT_ENDPOINT = 'https://ingest.neatlogs.com';

/**
 * Browsers refuse `keepalive` requests whose bodies add up to more than
 * 64 KiB; above this a trace is sent without it (it still arrives unless
 * the page is closing).
 */
export const KEEPALIVE_MAX_BYTES = 60 * 1024;

/**
 * `{endpoint}/v1/trace`: a bare origin gets `/v1/trace`; a path is kept
 * (a proxy prefix) and gets `/v1/trace` unless it already ends with it.
 * A relative endpoint resolves against the page. Throws on a bad URL.
 */
export function traceUrl(endpoint: string): string {
  const base = typeof location !== 'undefined' ? location.href : undefined;
  let url: URL;
  try {
    url = new URL(endpoint, base);
  } catch {
    throw new NeatlogsError('config', `endpoint is not a URL: ${JSON.stringify(endpoint)}; expected e.g. 'http://127.0.0.1:4318'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NeatlogsError('config', `endpoint must be http or https, got ${url.protocol}`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path.endsWith('/v1/trace') ? path : `${path}/v1/trace`}`;
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text) as { error?: unknown; message?: unknown };
      const message = body.error ?? body.message;
      if (typeof message === 'string' && message) return message;
    } catch {
      // not JSON: use the text
    }
    return text.slice(0, 300) || response.statusText;
  } catch {
    return response.statusText;
  }
}

/** Sends one trace; resolves to the collector's trace id, or an error. */
export async function post(
  fetchImpl: FetchLike,
  url: string,
  apiKey: string,
  body: string,
): Promise<{ traceId?: string } | NeatlogsError> {
  const bytes = new TextEncoder().encode(body).length;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body,
      keepalive: bytes <= KEEPALIVE_MAX_BYTES,
    });
  } catch (e) {
    return new NeatlogsError('transport', `cannot reach ${url}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  if (!response.ok) {
    const message = await errorMessage(response);
    return new NeatlogsError('http', `${url} answered ${response.status}: ${message}`, { status: response.status });
  }
  try {
    const json = (await response.json()) as { trace_id?: unknown };
    return typeof json?.trace_id === 'string' ? { traceId: json.trace_id } : {};
  } catch {
    return {};
  }
}
