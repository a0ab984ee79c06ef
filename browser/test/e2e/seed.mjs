// Seeds a collector for the traces-page tests: the Rust SDK's quickstart
// example (over OTLP), then traces sent with the browser SDK from Node (the
// same built package): a few days of history for the Users chart, a
// session with several turns, a trace with a failed tool call, and a trace
// whose end-user id and metadata are an XSS attempt.

import { Neatlogs } from 'neatlogs/browser';
import { runQuickstart } from './harness.mjs';

export const XSS = '<img src=x onerror=alert(1)>';
const DAY = 86_400_000;

export async function seed(base) {
  await runQuickstart(base);
  const errors = [];
  const nl = new Neatlogs({ apiKey: 'unused-locally', endpoint: base, project: 'support-chat', onError: (e) => errors.push(e.message) });
  const now = Date.now();
  const sent = [];
  const send = async (promise) => {
    const result = await promise;
    if (!result.sent) throw new Error(`seed trace not sent: ${errors.join('; ')}`);
    sent.push(result.traceId);
    return result.traceId;
  };

  // History: traces per day over the last 9 days.
  const users = [
    { id: 'u_812', metadata: { plan: 'pro', region: 'eu' }, perDay: [2, 1, 3, 0, 2, 4, 1, 2, 3] },
    { id: 'u_8041', metadata: { plan: 'free' }, perDay: [0, 1, 0, 1, 1, 0, 2, 0, 1] },
    { id: 'u_17', metadata: { plan: 'pro', region: 'us' }, perDay: [1, 0, 0, 2, 0, 1, 0, 1, 0] },
  ];
  for (const user of users) {
    for (const [d, count] of user.perDay.entries()) {
      for (let i = 0; i < count; i++) {
        const start = now - (9 - d) * DAY + i * 60_000;
        const llm = 300 + ((d * 7 + i * 13) % 9) * 110;
        await send(nl.trace({
          name: 'support-turn', endUser: user.id, endUserMetadata: user.metadata, sessionId: `chat-${user.id}-${d}`, start,
          children: [
            { name: 'search-docs', kind: 'retriever', durationMs: 60 + i * 5, input: 'refund policy' },
            { name: 'gpt-4o', kind: 'llm', model: 'gpt-4o', durationMs: llm, tokens: { prompt: 400 + d * 10, completion: 120 + i * 7 } },
          ],
        }));
      }
    }
  }

  // Today: a three-turn session for u_17.
  for (const [turn, question] of ['hi', 'my invoice is wrong', 'thanks!'].entries()) {
    await send(nl.trackAI({
      name: 'chat', model: 'gpt-4o-mini', input: question, output: 'ok', endUser: 'u_17', endUserMetadata: { plan: 'pro', region: 'us' },
      sessionId: 'chat-u_17-today', start: now - (3 - turn) * 120_000, durationMs: 400 + turn * 150, tokens: { prompt: 40 + turn, completion: 25 },
    }));
  }

  // A trace with a failed tool call, for u_812.
  const failed = await send(nl.trace({
    name: 'refund-request',
    endUser: 'u_812',
    endUserMetadata: { plan: 'pro', region: 'eu' },
    sessionId: 'chat-u_812-today',
    start: now - 30_000,
    input: 'Please refund order #1042',
    children: [
      { name: 'classify-intent', kind: 'llm', model: 'gpt-4o-mini', durationMs: 180, tokens: { prompt: 85, completion: 6 }, output: 'refund' },
      {
        name: 'refund-agent', kind: 'agent', children: [
          { name: 'search-orders', kind: 'retriever', durationMs: 95, input: 'order 1042' },
          { name: 'issue-refund', kind: 'tool', durationMs: 1200, error: 'payments API timed out after 1200 ms' },
          { name: 'draft-reply', kind: 'llm', model: 'gpt-4o', durationMs: 640, tokens: { prompt: 520, completion: 140 }, output: 'Sorry, the refund is delayed…' },
        ],
      },
    ],
  }));

  // The XSS attempt: as an end-user id and as a metadata value.
  const xss = await send(nl.trackAI({
    name: 'chat', model: 'gpt-4o', input: XSS, output: XSS, endUser: XSS, endUserMetadata: { plan: 'free', note: XSS },
    start: now - 10_000, durationMs: 210, tokens: { prompt: 9, completion: 9 },
  }));

  await nl.flush();
  if (errors.length) throw new Error(`seeding reported errors: ${errors.join('; ')}`);
  return { failed, xss, sent };
}
