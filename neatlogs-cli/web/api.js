// The JSON API of the collector that served this page. The filter language
// is parsed by the server (the same parser as the CLI), never here.

import { query } from './dom.js';

const KEY_STORAGE = 'neatlogs.apiKey';

/** The server answered with an error. `column` points into a bad filter. */
export class ApiError extends Error {
  constructor(status, message, column) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.column = column;
  }
}

/** The server wants an API key this page does not have (or has wrong). */
export class AuthError extends Error {
  constructor() {
    super('This collector requires an API key.');
    this.name = 'AuthError';
  }
}

/** Remembers the API key for this browser tab. */
export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** GET `path` with `params` (empty values left out); resolves to the JSON. */
export async function get(path, params = {}) {
  const url = new URL(path + query(params), location.origin);
  const headers = { accept: 'application/json' };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers['x-api-key'] = key;
  const response = await fetch(url, { headers });
  if (response.status === 401) throw new AuthError();
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (body && body.error) || `${response.status} ${response.statusText}`, body && body.column);
  }
  return body;
}
