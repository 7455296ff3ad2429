import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../../lib/index.js';
import { createSignInThrottle, type Database } from '../../storage/index.js';
import { openTestDatabase } from '../support/database.js';

/**
 * The sign-in throttle's counters on the real database (storage/sign-in-throttle.ts): rate-limiter-flexible's
 * PostgreSQL store, with the counts of one attempt (per client IP, per interaction) sent as one statement.
 */
describe('sign-in throttle counters in PostgreSQL', () => {
  let database: Database;
  const settings = { perIp: { max: 100, windowSeconds: 900 }, perInteraction: { max: 5, windowSeconds: 900 } };

  beforeAll(async () => {
    database = await openTestDatabase();
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  /** The statements sent through `pg` while `run` ran. */
  async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
    const sent: string[] = [];
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string };
      sent.push(typeof first === 'string' ? first : String(first?.text ?? ''));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await run();
    } finally {
      pg.Client.prototype.query = original;
    }
    return sent;
  }

  it('counts an attempt against both limits in one statement', async () => {
    const throttle = createSignInThrottle(database, settings);
    const source = { ip: '198.51.100.7', interactionId: randomToken(12) };
    const sent = await statementsOf(async () => expect(await throttle.consume(source)).toEqual({ allowed: true }));
    expect(sent, sent.join('\n')).toHaveLength(1);
  });

  it('counts every one of concurrent attempts of one source: of 8 at once with room for 5, exactly 5 go on', async () => {
    const throttle = createSignInThrottle(database, settings);
    const source = { ip: '198.51.100.8', interactionId: randomToken(12) };
    const decisions = await Promise.all(Array.from({ length: 8 }, () => throttle.consume(source)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    for (const refused of decisions.filter((d) => !d.allowed)) expect(refused).toMatchObject({ allowed: false, limit: 'interaction' });
  });

  it('keeps each limit its own: interactions from one IP share its count, and a forgiven attempt is given back to the IP only', async () => {
    const throttle = createSignInThrottle(database, { perIp: { max: 3, windowSeconds: 900 }, perInteraction: { max: 2, windowSeconds: 900 } });
    const ip = '198.51.100.9';
    const first = { ip, interactionId: randomToken(12) };
    expect(await throttle.consume(first)).toEqual({ allowed: true });
    await throttle.forgive(first);
    expect(await throttle.consume(first)).toEqual({ allowed: true });
    // The forgiven attempt still counts for its interaction (2 of 2).
    expect(await throttle.consume(first)).toMatchObject({ allowed: false, limit: 'interaction' });
    // The IP has 2 of 3 (three attempts, one forgiven, the refused one counted): another interaction gets one more.
    const second = { ip, interactionId: randomToken(12) };
    expect(await throttle.consume(second)).toEqual({ allowed: true });
    expect(await throttle.consume(second)).toMatchObject({ allowed: false, limit: 'ip' });
  });
});
