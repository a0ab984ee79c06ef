// Numbers, times and durations for people.

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** `2026-05-01 14:00:03` in the browser's time zone. */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `850µs`, `12.3ms`, `420ms`, `1.25s`, `2m05s` (as the CLI prints them). */
export function duration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '—';
  const v = Math.max(0, ms);
  if (v < 1) return `${Math.round(v * 1000)}µs`;
  if (v < 100) return `${v.toFixed(1)}ms`;
  if (v < 1000) return `${Math.round(v)}ms`;
  if (v < 60000) return `${(v / 1000).toFixed(2)}s`;
  const secs = Math.floor(v / 1000);
  return `${Math.floor(secs / 60)}m${pad(secs % 60)}s`;
}

/** `12,345` */
export function int(n) {
  return Number(n || 0).toLocaleString('en-US');
}

/** `3 min ago`, `2 days ago` */
export function ago(iso) {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return '—';
  const secs = Math.round((Date.now() - then) / 1000);
  if (secs < 0) return 'just now';
  if (secs < 60) return `${secs}s ago`;
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h ago`;
  const days = Math.floor(secs / 86400);
  return days === 1 ? '1 day ago' : `${days} days ago`;
}

/**
 * A cost in USD: `$12.35` from a dollar up, four significant digits below
 * (`$0.004215`), `''` when unknown (never `$0` for a price nobody knows).
 * The same as the CLI prints.
 */
export function usd(cost) {
  if (cost === null || cost === undefined || Number.isNaN(Number(cost))) return '';
  const c = Number(cost);
  if (c === 0) return '$0';
  if (Math.abs(c) >= 1) {
    return `$${c.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  const decimals = Math.min(12, Math.max(2, 3 - Math.floor(Math.log10(Math.abs(c)))));
  return `$${c.toFixed(decimals).replace(/0+$/, '').replace(/\.$/, '')}`;
}

/** A JSON value as one line of text (strings as themselves). */
export function value(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** Metadata `{plan: "pro", region: "eu"}` as `plan: pro · region: eu`. */
export function metadata(m) {
  if (!m || typeof m !== 'object') return '';
  return Object.entries(m).map(([k, v]) => `${k}: ${value(v)}`).join(' · ');
}
