import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgresServer } from '../support/database.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { redeem, startAuthorization } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { UserAgent, type Page } from '../support/user-agent.js';

const REDIRECT = 'http://localhost:7633/auth/callback';

/**
 * A whole sign-in (authorize → sign-in page → password → code page → code → authorize → token, and the emailed
 * code's delivery) costs at most this many database round trips: the count when this was written, so that any
 * statement added to a sign-in fails here. Issue 10 §2's target is 20: lower this as round trips are taken out.
 * Each `pg` query is one round trip (node-postgres sends Parse/Bind/Execute/Sync and waits), so the count is
 * exact; `ROUND_TRIPS_LOG=1` prints every statement by request, an `oidc_models` one with its model kind.
 * Measured (PostgreSQL 15, warm caches; the first sign-in's GET /auth also reads the client once), 20:
 * - GET /auth 1 (the new interaction), sign-in page 1 (the interaction);
 * - POST password 6: the interaction; the attempt's two rate-limit counts (one statement); the account by login
 *   with its lockout reservation and its registered factors (passkeys, confirmed app); argon2; the first emailed
 *   code with its outbox message and the right password's reservation given back; the rate-limit refund; the
 *   interaction with the sign-in state;
 * - code page 2 (the interaction; the code's delivery), mail delivery 1 (marked sent, the code delivered);
 * - POST code 5: the interaction; the rate-limit counts; the code check (lockout reservation, the code consumed,
 *   the counts reset and account.signed_in recorded, the account's view for the registration prompts and the
 *   organization step, all one statement); the refund; the finished interaction;
 * - resume 2 (the interaction with its account, one statement for everything it writes), POST /token 2 (the code
 *   with its grant, session and account; the code consumed and the access token saved in one statement).
 * (Before issue 10 §2's folds it was 30: POST password 9, POST code 11, POST /token 3.) The code page's two reads
 * (the interaction, then its code's delivery) are the next candidate for one statement, in the oidc adapter.
 */
const MAX_ROUND_TRIPS = 20;

/** Statements of background work that may fall inside a sign-in: the readiness probe's schema check. */
const BACKGROUND = /__drizzle_migrations/;

/** Every statement sent through `pg` while installed, tagged with the phase it ran in. */
class StatementLog {
  readonly statements: { phase: string; text: string }[] = [];
  phase = 'setup';
  private original?: typeof pg.Client.prototype.query;

  install(): void {
    const original = pg.Client.prototype.query;
    this.original = original;
    const log = this;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string; values?: unknown[] };
      const text = typeof first === 'string' ? first : String(first?.text ?? '');
      const values = (Array.isArray(args[1]) ? args[1] : typeof first === 'object' ? first?.values : undefined) as unknown[] | undefined;
      // oidc-provider's models share one table: the model kind (the first parameter) says which one a statement is.
      const kind = /oidc_models/.test(text) && typeof values?.[0] === 'string' ? ` {${values[0]}}` : '';
      log.statements.push({ phase: log.phase, text: `${kind}${text}` });
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
  }

  uninstall(): void {
    if (this.original) pg.Client.prototype.query = this.original;
  }

  since(index: number): { phase: string; text: string }[] {
    return this.statements.slice(index);
  }
}

// Round trips are counted on the pg client: the PostgreSQL server project only (PGlite runs in the process, no wire).
describe.skipIf(!usingPostgresServer)('database round trips of a whole sign-in (issue 10 §2)', () => {
  let t: TestIdp;
  let c: Awaited<ReturnType<TestIdp['registerClient']>>;
  const log = new StatementLog();

  beforeAll(async () => {
    log.install();
    // No outbox polling: the code's delivery is the enqueuer's own deliverSoon, as on an idle server between polls.
    t = await startTestIdp({ MAIL_POLL_SECONDS: '3600' });
    c = await t.registerClient({ clientId: 'round-trips', redirectUri: REDIRECT });
  });
  afterAll(async () => {
    log.uninstall();
    await t?.close();
  });

  async function step(name: string, run: () => Promise<Page>): Promise<Page> {
    log.phase = name;
    const page = await run();
    log.phase = 'between';
    return page;
  }

  async function signIn(userId: string, email: string, password: string): Promise<number> {
    const ua = new UserAgent();
    const auth = await startAuthorization(c.rp, REDIRECT);
    const start = log.statements.length;
    const authorize = await step('GET /auth', () => ua.request(auth.url.toString()));
    const signInUrl = new URL(authorize.headers.get('location')!, auth.url).toString();
    const signInPage = await step('GET sign-in page', () => ua.request(signInUrl));
    const since = t.smtp.messages.length;
    const passwordForm = await formOf(signInPage, { login: userId, password });
    const afterPassword = await step('POST password', () => ua.request(passwordForm.action, { method: 'POST', body: passwordForm.body }));
    expect(afterPassword.status).toBe(303);
    const codePage = await step('GET code page', () => ua.request(new URL(afterPassword.headers.get('location')!, signInUrl).toString()));
    log.phase = 'mail delivery';
    const code = otpFrom(await t.smtp.waitFor(email, { since }));
    await t.idp.identity.mailDelivery.idle();
    const codeForm = await formOf(codePage, { code });
    const afterCode = await step('POST code', () => ua.request(codeForm.action, { method: 'POST', body: codeForm.body }));
    expect(afterCode.status).toBe(303);
    const resumed = await step('GET /auth (resume)', () => ua.request(new URL(afterCode.headers.get('location')!, signInUrl).toString()));
    const callback = new URL(resumed.headers.get('location')!, signInUrl);
    expect(callback.toString().startsWith(REDIRECT)).toBe(true);
    log.phase = 'POST /token';
    const tokens = await redeem(c.rp, callback, auth);
    log.phase = 'between';
    expect(tokens.id_token).toBeTruthy();
    // The readiness probe's periodic check of the schema version is no part of a sign-in.
    const statements = log.since(start).filter((s) => s.phase !== 'between' && !BACKGROUND.test(s.text));
    if (process.env.ROUND_TRIPS_LOG) {
      for (const s of statements) console.log(`[${s.phase}] ${s.text.replace(/\s+/g, ' ').slice(0, 400)}`);
    }
    return statements.length;
  }

  it(`signs in with at most ${MAX_ROUND_TRIPS} database round trips, the emailed code's delivery included`, async () => {
    const user = await t.createAccount({ userId: 'round.trips' });
    await signIn(user.userId, user.email, user.password); // warm-up: first use of the client, keys and caches
    const counted = await signIn(user.userId, user.email, user.password);
    expect(counted).toBeLessThanOrEqual(MAX_ROUND_TRIPS);
  });
});

/** The page's form with its hidden fields (CSRF token) and `fields` by name; its absolute action URL. */
async function formOf(page: Page, fields: Record<string, string>): Promise<{ action: string; body: URLSearchParams }> {
  const cheerio = await import('cheerio');
  const $ = cheerio.load(page.html);
  const form = $(`form:has([name="${Object.keys(fields)[0]}"])`).first();
  if (!form.length) throw new Error(`no form with ${Object.keys(fields)[0]} on ${page.url}`);
  const body = new URLSearchParams();
  form.find('input[type=hidden]').each((_, i) => void body.append($(i).attr('name') ?? '', $(i).attr('value') ?? ''));
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  return { action: new URL(form.attr('action') ?? page.url, page.url).toString(), body };
}
