// Shared by the browser tests: a real `neatlogs serve` on a free loopback
// port with a fresh store, and Debian's Chromium driven by playwright-core
// (never a downloaded browser).

import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

export const BROWSER_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO = resolve(BROWSER_DIR, '..');
/** Cargo's target directory (CARGO_TARGET_DIR or ./target): build outputs, never tracked. */
export const TARGET = process.env.CARGO_TARGET_DIR ? resolve(REPO, process.env.CARGO_TARGET_DIR) : join(REPO, 'target');

/** Path of a binary that cargo built, or a clear error saying how to build it. */
function built(envVar, relative, how) {
  const path = process.env[envVar] || join(TARGET, 'debug', relative);
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: build it with \`${how}\` (or set ${envVar}); scripts/browser-tests.sh does both`);
  }
  return path;
}

export const neatlogsBin = () => built('NEATLOGS_BIN', 'neatlogs', 'cargo build -p neatlogs-cli --features test-fixtures');
export const quickstartBin = () => built('NEATLOGS_QUICKSTART', 'examples/quickstart', 'cargo build -p neatlogs --example quickstart');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** A temporary folder, removed by `cleanup`. */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Starts `neatlogs serve` on 127.0.0.1:0 with a store in a fresh folder and
 * the browser SDK's folder as `--dev-fixtures` (a binary built with the
 * `test-fixtures` feature). Resolves once it listens.
 */
export async function startServer({ apiKey } = {}) {
  const dir = tempDir('neatlogs-e2e-');
  const args = ['serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'neatlogs.db'), '--dev-fixtures', BROWSER_DIR];
  const env = { ...process.env };
  delete env.NEATLOGS_API_KEY;
  if (apiKey) args.push('--api-key', apiKey);
  const child = spawn(neatlogsBin(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const lines = createInterface({ input: child.stdout });
  const base = await new Promise((resolveBase, reject) => {
    const timer = setTimeout(() => reject(new Error(`neatlogs serve did not start in 15s: ${stderr}`)), 15000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`neatlogs serve exited ${code}: ${stderr}`)); });
    lines.on('line', (line) => {
      const match = line.match(/listening on (http:\/\/\S+)/);
      if (match) { clearTimeout(timer); resolveBase(match[1]); }
    });
  });
  // Keep reading stdout so the server never blocks on a full pipe.
  lines.on('line', () => {});
  const headers = apiKey ? { 'x-api-key': apiKey } : {};
  return {
    base,
    dir,
    /** GET a JSON API path. */
    async api(path, params = {}) {
      const url = new URL(path, base);
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
      const response = await fetch(url, { headers });
      const body = await response.json();
      if (!response.ok) throw new Error(`${url} -> ${response.status}: ${JSON.stringify(body)}`);
      return body;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the Rust SDK's quickstart example against `base` (no API key). */
export async function runQuickstart(base) {
  const cwd = tempDir('neatlogs-quickstart-');
  const env = { ...process.env, NEATLOGS_ENDPOINT: base };
  delete env.NEATLOGS_API_KEY;
  delete env.NEATLOGS_FILE;
  try {
    return await promisify(execFile)(quickstartBin(), [], { cwd, env, timeout: 60000 });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/**
 * Debian's Chromium, headless, with the flags this machine needs (no
 * network beyond loopback) and a fresh profile. Every dialog is recorded
 * and dismissed, so a test can assert that none fired.
 */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} does not exist: apt-get install -y chromium (scripts/browser-tests.sh does)`);
  }
  const profile = tempDir('neatlogs-chromium-');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const dialogs = [];
  const pageErrors = [];
  const watch = (page) => {
    page.on('dialog', (dialog) => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}); });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  };
  context.on('page', watch);
  for (const page of context.pages()) watch(page);
  return {
    context,
    dialogs,
    pageErrors,
    async newPage() {
      const page = await context.newPage();
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
