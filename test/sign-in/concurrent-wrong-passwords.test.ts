import http from 'node:http';
import * as cheerio from 'cheerio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordHashingLoad } from '../../identity/credentials/password.js';
import { usingPostgresServer } from '../support/database.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { startAuthorization } from '../support/sign-in.js';
import { textOf, UserAgent, type Page } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7634/auth/callback';
const GUESSES = 200;
const CONCURRENCY = 2;
const QUEUE_LIMIT = 32;
const MiB = 1024 * 1024;

// The argon2 gate is one per process, so this file has an IdP of its own with the default limits of a 2-core
// machine: 2 computations at once, 32 waiting (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_QUEUE_LIMIT).
describe('200 concurrent wrong passwords on one account (issue 10 §3 "Bounded work")', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;

  beforeAll(async () => {
    t = await startTestIdp({ PASSWORD_HASH_CONCURRENCY: String(CONCURRENCY), PASSWORD_HASH_QUEUE_LIMIT: String(QUEUE_LIMIT) });
    c = await t.registerClient({ clientId: 'concurrent-wrong-passwords', redirectUri: REDIRECT });
  });
  afterAll(() => t?.close());

  async function signInPage(): Promise<{ ua: UserAgent; page: Page }> {
    const ua = new UserAgent();
    return { ua, page: await ua.follow((await startAuthorization(c.rp, REDIRECT)).url.toString()) };
  }

  it('answers only 401 or 503 with Retry-After, checks the password at most 5 times (plus the one locked check), and keeps argon2 work and memory bounded', async () => {
    const user = await t.createAccount({ userId: 'flood.target' });
    // All pages at once, so that the flood follows at once on the same keep-alive connections.
    const pages = await Promise.all(Array.from({ length: GUESSES }, () => signInPage()));

    // Load and memory, sampled while the flood runs (the IdP runs in this process).
    global.gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    let peakRunning = 0;
    let peakInGate = 0;
    const sampler = setInterval(() => {
      const memory = process.memoryUsage();
      peakRss = Math.max(peakRss, memory.rss);
      peakHeap = Math.max(peakHeap, memory.heapUsed);
      const load = passwordHashingLoad();
      peakRunning = Math.max(peakRunning, load.running);
      peakInGate = Math.max(peakInGate, load.running + load.waiting);
    }, 5);
    const answers = await Promise.all(pages.map(({ ua, page }, i) => postOnNewConnection(ua, page, { login: user.userId, password: `flood-wrong-${i}-password` })));
    clearInterval(sampler);

    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s !== 401 && s !== 503)).toEqual([]);
    const refused = answers.filter((a) => a.status === 503);
    // On a PostgreSQL server the 200 reach the password step together and cannot all fit in 2 running + 32 waiting.
    // Embedded PGlite serializes their database work, so they arrive one by one and may all fit.
    if (usingPostgresServer) expect(refused.length).toBeGreaterThan(0);
    for (const page of refused) {
      expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(textOf(page.html)).toContain('Temporarily unavailable');
      expect(page.html).not.toMatch(/at .+\.(ts|js):\d+/); // no stack trace
    }
    for (const page of answers.filter((a) => a.status === 401)) expect(textOf(page.html)).toContain('The user ID/email or password is incorrect.');

    // Password evaluations against the account's hash: the 5 the lockout window allows, and at most the one check a
    // locked account gets per window (design/security.md §2); every other admitted guess was refused by the lockout.
    const failures = await t.idp.identity.stores.audit.list({ accountId: user.id, type: 'account.sign_in_failed', limit: 1000 });
    const checked = failures.filter((e) => e.data.reason === 'wrong_password').length;
    expect(checked).toBeGreaterThanOrEqual(5);
    expect(checked).toBeLessThanOrEqual(6);
    const lockout = await t.idp.identity.stores.lockouts.find(user.id);
    expect(lockout?.lockedAt).not.toBeNull();
    expect(lockout?.attempts).toBe(5);
    // Each 401 is one audited failure, each 503 none: a refused guess was never counted or checked.
    expect(failures).toHaveLength(statuses.filter((s) => s === 401).length);

    // Bounded work: never more argon2 computations than slots, never more waiting than the queue holds.
    expect(peakRunning).toBeLessThanOrEqual(CONCURRENCY);
    expect(peakInGate).toBeLessThanOrEqual(CONCURRENCY + QUEUE_LIMIT);
    // Bounded memory: argon2 needs 19 MiB per running computation (outside the heap); 200 requests in flight must
    // not add more than that plus their pages.
    expect((peakRss - before.rss) / MiB).toBeLessThan(256);
    expect((peakHeap - before.heapUsed) / MiB).toBeLessThan(128);
    expect(passwordHashingLoad()).toMatchObject({ running: 0, waiting: 0 });
  }, 240_000); // 200 sign-in pages and 200 POSTs: about 90 s on PGlite on 2 loaded cores
});

/**
 * Submits the sign-in form of `page` with `fields` (and its hidden CSRF field, with the agent's cookies) on a
 * connection of its own. The flood shares this process's event loop with the IdP: on a busy loop a pooled keep-alive
 * connection can be reused just as the server closes it (ECONNRESET before any answer), which would say nothing
 * about the server's answer.
 */
async function postOnNewConnection(ua: UserAgent, page: Page, fields: Record<string, string>): Promise<Page> {
  const $ = cheerio.load(page.html);
  const form = $(`form:has([name="${Object.keys(fields)[0]}"])`).first();
  const body = new URLSearchParams();
  form.find('input[type=hidden]').each((_, input) => void body.append($(input).attr('name') ?? '', $(input).attr('value') ?? ''));
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  const url = new URL(form.attr('action') ?? page.url, page.url);
  const cookie = await ua.jar.getCookieString(url.toString());
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent: false, headers: { cookie, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
        resolve({ url: url.toString(), status: response.statusCode ?? 0, html: Buffer.concat(chunks).toString('utf8'), headers });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body.toString());
  });
}
