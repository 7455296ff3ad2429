import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcModels } from '../../storage/schema.js';
import { authorizationUrl, browser, locationOf, startIdp, textOf, type Browser, type IdpFixture } from './fixture.js';
import { signIn } from './flow.js';

const PORTAL = { clientId: 'lifetime-portal', redirectUri: 'http://localhost:7701/cb' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A silent authorization (`prompt=none`) as a portal sends it: the redirect back to the portal. */
async function silentAuthorization(b: Browser): Promise<URL> {
  const answer = await b.get(authorizationUrl(PORTAL.clientId, PORTAL.redirectUri, { prompt: 'none' }).url);
  expect(answer.status).toBe(303);
  return new URL(answer.headers.location!);
}

/** An ordinary authorization: the first page it leads to. */
async function authorization(b: Browser) {
  const started = await b.get(authorizationUrl(PORTAL.clientId, PORTAL.redirectUri).url);
  return started.headers.location?.startsWith(PORTAL.redirectUri) ? { redirectedTo: new URL(started.headers.location) } : { page: await b.get(locationOf(started)) };
}

describe('the absolute lifetime of the IdP session (SESSION_MAX_AGE_SECONDS)', () => {
  let f: IdpFixture;
  let user: { id: string; userId: string; email: string };
  beforeAll(async () => {
    f = await startIdp({ SESSION_MAX_AGE_SECONDS: '3', SESSION_TTL_SECONDS: '60' });
    await f.client(PORTAL);
    user = await f.account('lifetime.max', await f.organization('Lifetime Org', ['B07701']));
  });
  afterAll(() => f?.close());

  it('ends a session that is used every second once its sign-in is older than the maximum age, and the next authorization asks for both factors', async () => {
    const b = browser(f);
    const first = await signIn(f, b, { ...PORTAL, login: user.userId, email: user.email });
    const signedInAt = Date.now();
    expect(first.callback.searchParams.get('code')).toBeTruthy();

    // The stored session never outlives the sign-in by more than the maximum age (plus rounding to seconds).
    const [row] = await f.database.db.select({ payload: oidcModels.payload, expiresAt: oidcModels.expiresAt }).from(oidcModels).where(and(eq(oidcModels.kind, 'Session'), eq(oidcModels.accountId, user.id)));
    expect(row!.expiresAt!.getTime() / 1000 - Number(row!.payload.loginTs)).toBeLessThanOrEqual(4);

    // In use: a portal authorizes silently about every half second, and gets a code while the sign-in is recent.
    while (Date.now() - signedInAt < 1800) {
      expect((await silentAuthorization(b)).searchParams.get('code')).toBeTruthy();
      await sleep(500);
    }
    // Still in use every second, past the maximum age: the session is no longer extended.
    const outcomes: (string | null)[] = [];
    while (Date.now() - signedInAt < 5000) {
      const back = await silentAuthorization(b);
      outcomes.push(back.searchParams.get('error'));
      await sleep(1000);
    }
    expect(outcomes.at(-1)).toBe('login_required');

    const again = await authorization(b);
    expect(again.page?.status).toBe(200);
    expect(textOf(again.page!.text)).toContain('Password');
    const second = await signIn(f, b, { ...PORTAL, login: user.userId, email: user.email });
    expect(second.callback.searchParams.get('code')).toBeTruthy();
    expect((await silentAuthorization(b)).searchParams.get('code')).toBeTruthy();
  });
});

describe('the idle timeout of the IdP session (SESSION_TTL_SECONDS)', () => {
  let f: IdpFixture;
  let user: { id: string; userId: string; email: string };
  beforeAll(async () => {
    f = await startIdp({ SESSION_MAX_AGE_SECONDS: '60', SESSION_TTL_SECONDS: '2' });
    await f.client(PORTAL);
    user = await f.account('lifetime.idle', await f.organization('Idle Org', ['B07702']));
  });
  afterAll(() => f?.close());

  it('keeps a session that is used more often than the idle timeout, and ends it once it is left unused that long', async () => {
    const b = browser(f);
    await signIn(f, b, { ...PORTAL, login: user.userId, email: user.email });
    const signedInAt = Date.now();
    while (Date.now() - signedInAt < 4000) {
      expect((await silentAuthorization(b)).searchParams.get('code')).toBeTruthy();
      await sleep(800);
    }
    await sleep(3000);
    expect((await silentAuthorization(b)).searchParams.get('error')).toBe('login_required');
    const again = await authorization(b);
    expect(textOf(again.page!.text)).toContain('Password');
  });
});
