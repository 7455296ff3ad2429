/**
 * Sign-in across two instances behind a round-robin proxy: one interaction's steps on different instances,
 * single sign-on and logout wherever the next request lands, single-use codes that stay single-use across
 * instances, and the lockout counted once for both.
 *
 * Runs only on a PostgreSQL server (the `postgres` project): two processes cannot share an embedded database.
 */
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/index.js';
import { APP_CODE_LABEL, oathtool } from '../support/authenticator.js';
import { usingPostgresServer } from '../support/database.js';
import { redeem, startAuthorization, submitPassword } from '../support/sign-in.js';
import { otpFrom } from '../support/smtp-capture.js';
import { textOf } from '../support/user-agent.js';
import { ClusterAgent, createAccount, createOrganization, PASSWORD, registerClient, startCluster, type Cluster } from './cluster.js';

const PORTAL_A = 'http://localhost:7101/auth/callback';
const PORTAL_B = 'http://localhost:7102/auth/callback';
const LOGGED_OUT = 'http://localhost:7101/';
const toCallback = (redirectUri: string) => (next: string) => next.startsWith(redirectUri);

describe.skipIf(!usingPostgresServer)('sign-in on two instances behind a round-robin proxy', () => {
  let cluster: Cluster;
  let organization: string;
  let portalA: Awaited<ReturnType<typeof registerClient>>;
  let portalB: Awaited<ReturnType<typeof registerClient>>;

  beforeAll(async () => {
    // One sign-in's 100 guesses all come from one interaction set and one IP: only the lockout may stop them here.
    cluster = await startCluster({ SIGN_IN_RATE_LIMIT_PER_INTERACTION: '100000' });
    organization = await createOrganization(cluster, 'Cluster Sign-in Ltd');
    portalA = await registerClient(cluster, { clientId: 'cluster-portal-a', redirectUri: PORTAL_A, postLogoutRedirectUri: LOGGED_OUT });
    portalB = await registerClient(cluster, { clientId: 'cluster-portal-b', redirectUri: PORTAL_B });
  }, 150_000);
  afterAll(() => cluster?.close(), 60_000);

  /** Which instance answered the proxied requests whose path starts with `prefix` and method is `method`. */
  const servedBy = (method: string, pathPart: string) => cluster.proxy.log.filter((r) => r.method === method && r.path.includes(pathPart)).map((r) => r.instance);

  describe('one person through both instances', () => {
    const ua = new ClusterAgent();
    let user: Awaited<ReturnType<typeof createAccount>>;
    beforeAll(async () => {
      user = await createAccount(cluster, organization, 'cluster.walker');
    });

    it('completes one interaction whose password step runs on A and code step on B, and the ID token validates', async () => {
      const auth = await startAuthorization(portalA.rp, PORTAL_A);
      const signInPage = await ua.on('A', () => ua.follow(auth.url.toString()));
      expect(textOf(signInPage.html)).toContain('User ID or email');
      const since = cluster.smtp.messages.length;
      const codePage = await ua.on('A', () => submitPassword(ua, signInPage, user.userId, PASSWORD));
      expect(codePage.status).toBe(200);
      const uid = new URL(codePage.url).pathname.split('/')[2]!;
      const mail = await cluster.smtp.waitFor(user.email, { since, timeoutMs: 20_000 });
      const done = await ua.on('B', () => ua.submit(codePage, { 'One-time code': otpFrom(mail) }, { stopAt: toCallback(PORTAL_A) }));
      expect(done.redirectedTo, textOf(done.html)).toBeDefined();

      expect(servedBy('POST', `/interaction/${uid}/password`)).toEqual(['A']);
      expect(servedBy('POST', `/interaction/${uid}/email-otp`)).toEqual(['B']);
      const tokens = await redeem(portalA.rp, new URL(done.redirectedTo!), auth);
      expect(tokens.claims()).toMatchObject({ sub: user.id, iss: cluster.issuer, aud: 'cluster-portal-a', amr: expect.arrayContaining(['pwd', 'otp']) });
      const userinfo = await client.fetchUserInfo(portalA.rp, tokens.access_token, user.id);
      expect(userinfo.sub).toBe(user.id);
    });

    it('signs the same person in to a second client without credentials on whichever instance the request lands (SSO)', async () => {
      const mailsBefore = cluster.smtp.messages.length;
      for (const instance of ['A', 'B'] as const) {
        const auth = await startAuthorization(portalB.rp, PORTAL_B);
        const first = await ua.on(instance, () => ua.follow(auth.url.toString(), {}, toCallback(PORTAL_B)));
        expect(first.redirectedTo, `SSO on ${instance}: ${textOf(first.html)}`).toBeDefined();
        const tokens = await redeem(portalB.rp, new URL(first.redirectedTo!), auth);
        expect(tokens.claims()).toMatchObject({ sub: user.id, aud: 'cluster-portal-b' });
      }
      expect(cluster.smtp.messages.length).toBe(mailsBefore);
    });

    it('ends the session on RP-initiated logout started on A and confirmed on B, so both instances ask for the password again', async () => {
      const auth = await startAuthorization(portalA.rp, PORTAL_A);
      const first = await ua.follow(auth.url.toString(), {}, toCallback(PORTAL_A));
      const tokens = await redeem(portalA.rp, new URL(first.redirectedTo!), auth);
      const endSession = client.buildEndSessionUrl(portalA.rp, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGGED_OUT });
      const logoutPage = await ua.on('A', () => ua.follow(endSession.toString()));
      expect(logoutPage.status).toBe(200);
      const after = await ua.on('B', () => ua.submit(logoutPage, {}, { button: 'Sign out', stopAt: (next) => next.startsWith(LOGGED_OUT) }));
      expect(after.redirectedTo).toBe(LOGGED_OUT);
      for (const instance of ['A', 'B'] as const) {
        const again = await startAuthorization(portalA.rp, PORTAL_A);
        const page = await ua.on(instance, () => ua.follow(again.url.toString(), {}, toCallback(PORTAL_A)));
        expect(page.redirectedTo, `after logout, on ${instance}`).toBeUndefined();
        expect(textOf(page.html)).toContain('User ID or email');
      }
    });
  });

  it('accepts an emailed code once when it is entered on A and on B at the same moment', async () => {
    const user = await createAccount(cluster, organization, 'cluster.twice');
    const ua = new ClusterAgent();
    const auth = await startAuthorization(portalA.rp, PORTAL_A);
    const signInPage = await ua.follow(auth.url.toString());
    const since = cluster.smtp.messages.length;
    const codePage = await submitPassword(ua, signInPage, user.userId, PASSWORD);
    const code = otpFrom(await cluster.smtp.waitFor(user.email, { since, timeoutMs: 20_000 }));
    const uid = new URL(codePage.url).pathname.split('/')[2]!;
    const resumes = (page: { status: number; headers: Headers }) => page.status === 303 && (page.headers.get('location') ?? '').includes(`/auth/${uid}`);
    // Each answer is looked at before any redirect is followed: a code accepted sends the browser on to /auth/<uid>.
    const answers = await Promise.all((['A', 'B'] as const).map((instance) => ua.on(instance, () => ua.submit(codePage, { 'One-time code': code }, { stopAt: () => true }))));
    const summary = answers.map((a) => `${a.status} ${a.headers.get('location') ?? textOf(a.html).slice(0, 120)}`).join(' | ');
    expect(answers.filter(resumes), summary).toHaveLength(1);
    expect(answers.find((a) => !resumes(a))!.status, summary).toBeLessThan(500);
    const done = await ua.follow(new URL(answers.find(resumes)!.headers.get('location')!, cluster.issuer).toString(), {}, toCallback(PORTAL_A));
    expect(done.redirectedTo).toBeDefined();
    expect(await cluster.auditCount('account.signed_in', user.id)).toBe(1);
    expect(await cluster.auditCount('account.sign_in_failed', user.id, 'wrong_otp')).toBe(1);
    // The code is spent: entering it again, on either instance, completes no second sign-in.
    for (const instance of ['A', 'B'] as const) {
      const again = await ua.on(instance, () => ua.submit(codePage, { 'One-time code': code }, { stopAt: () => true }));
      expect(resumes(again), `replay on ${instance}`).toBe(false);
    }
    expect(await cluster.auditCount('account.signed_in', user.id)).toBe(1);
  });

  it('refuses on B an authenticator app code already used to sign in on A (replay across instances)', async () => {
    const user = await createAccount(cluster, organization, 'cluster.app');
    // Registered in an earlier 30-second time step, so the current step's code is still unused.
    const earlier = { now: () => new Date(Date.now() - 120_000) };
    const registering = cluster.identityAt(earlier);
    const { account } = (await registering.accounts.findAccount(user.id))!;
    const setup = await registering.authenticators.beginRegistration(account, 'account_page');
    expect((await registering.authenticators.completeRegistration(account, oathtool(setup.secret, earlier.now()))).outcome).toBe('ok');

    const code = oathtool(setup.secret, systemClock.now());
    const signInWith = async (instance: 'A' | 'B') => {
      const ua = new ClusterAgent();
      const auth = await startAuthorization(portalA.rp, PORTAL_A);
      return ua.on(instance, async () => {
        const appPage = await submitPassword(ua, await ua.follow(auth.url.toString()), user.userId, PASSWORD);
        expect(textOf(appPage.html)).toContain(APP_CODE_LABEL);
        return ua.submit(appPage, { [APP_CODE_LABEL]: code }, { stopAt: toCallback(PORTAL_A) });
      });
    };
    const onA = await signInWith('A');
    expect(onA.redirectedTo, textOf(onA.html)).toBeDefined();
    const onB = await signInWith('B');
    expect(onB.redirectedTo).toBeUndefined();
    expect(onB.status).toBeLessThan(500);
    // A code of a time step already used is refused by the stored last step (`wrong_otp`), or, when both
    // requests read it before either wrote it, by the guarded update (`replayed_otp`).
    const refusals = (await cluster.auditCount('account.sign_in_failed', user.id, 'wrong_otp')) + (await cluster.auditCount('account.sign_in_failed', user.id, 'replayed_otp'));
    expect(refusals).toBe(1);
    expect(await cluster.auditCount('account.signed_in', user.id)).toBe(1);
  });

  it('runs at most 5 + 1 real password checks for 100 concurrent wrong passwords split across both instances', async () => {
    const user = await createAccount(cluster, organization, 'cluster.target');
    // Ten sign-ins (each its own browser and interaction), ten guesses each, all sent at once.
    const signIns = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const ua = new ClusterAgent();
        const page = await ua.follow((await startAuthorization(portalA.rp, PORTAL_A)).url.toString());
        expect(textOf(page.html)).toContain('User ID or email');
        return { ua, page };
      }),
    );
    const logStart = cluster.proxy.log.length;
    const answers = await Promise.all(
      signIns.flatMap(({ ua, page }) => Array.from({ length: 10 }, (_, i) => ua.submit(page, { 'User ID or email': user.userId, Password: `wrong guess ${i}` }, { stopAt: () => true }))),
    );
    expect(answers).toHaveLength(100);
    for (const answer of answers) expect(answer.status, textOf(answer.html).slice(0, 200)).toBeLessThan(500);
    for (const answer of answers) expect(answer.redirectedTo ?? '').not.toContain('/email-otp');

    const posts = cluster.proxy.log.slice(logStart).filter((r) => r.method === 'POST' && r.path.split('?')[0]!.endsWith('/password'));
    expect(posts).toHaveLength(100);
    expect(posts.filter((r) => r.instance === 'A').length).toBeGreaterThanOrEqual(40);
    expect(posts.filter((r) => r.instance === 'B').length).toBeGreaterThanOrEqual(40);
    // Every guess reached the password step (none was stopped by a rate limit or a full queue) …
    expect(await cluster.auditCount('account.sign_in_failed', user.id)).toBe(100);
    // … and argon2 ran for at most 5 failures plus the one check a locked account gets.
    const checks = await cluster.auditCount('account.sign_in_failed', user.id, 'wrong_password');
    expect(checks).toBeGreaterThanOrEqual(5);
    expect(checks).toBeLessThanOrEqual(6);
    expect(await cluster.auditCount('account.locked', user.id)).toBe(1);
  });
});
