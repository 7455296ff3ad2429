import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/authenticator.js';
import { freePort } from '../support/ports.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';
import { FLAGS, SoftCredential, type Site } from './soft-authenticator.js';

const ISSUER = 'https://id.example.com';
const SITE: Site = { rpId: 'id.example.com', origin: ISSUER };

describe('passkey sign-in is verified against ISSUER, the interaction\'s one-use challenge and the signature counter', () => {
  let t: TestIdp;
  const clock = new ManualClock();
  let uids = 0;

  beforeAll(async () => {
    // The issuer is only a name here: these calls go to the service, never over HTTP.
    t = await startTestIdp({ ISSUER, PORT: String(await freePort()) }, { clock });
  });
  afterAll(() => t?.close());

  const passkeys = () => t.idp.identity.passkeys;
  const eventsOf = async (accountId: string, type: string) => (await t.idp.identity.stores.audit.list({ accountId, limit: 50 })).filter((e) => e.type === type);

  /** An account with one passkey registered through the registration ceremony (answered by a SoftCredential). */
  async function accountWithPasskey(userId: string, credential = new SoftCredential()) {
    const user = await t.createAccount({ userId });
    const account = (await t.idp.identity.accounts.findAccount(user.id))!.account;
    const options = await passkeys().beginRegistration(account, `account-session-${userId}`);
    const registered = await passkeys().completeRegistration(account, `account-session-${userId}`, { name: 'Laptop', response: credential.registrationResponse(options.challenge, SITE) });
    expect(registered.outcome).toBe('ok');
    return { account, credential, passkey: (registered as { passkey: { id: string; aaguid: string | null } }).passkey };
  }

  const secondFactor = (accountId: string) => ({ mode: 'password' as const, interactionUid: `interaction-${++uids}`, accountId });
  const passwordless = () => ({ mode: 'passwordless' as const, interactionUid: `interaction-${++uids}` });

  it('as second factor: offers the account\'s passkeys, accepts a signed assertion, records the counter and last use, and gives amr pwd hwk user mfa and acr phr', async () => {
    const { account, credential, passkey } = await accountWithPasskey('signin.second');
    expect(passkey.aaguid).toBe('01234567-89ab-cdef-0123-456789abcdef');
    const ceremony = secondFactor(account.id);
    const options = await passkeys().beginAuthentication(ceremony);
    expect(options.rpId).toBe('id.example.com');
    expect(options.userVerification).toBe('preferred');
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([credential.id]);

    const result = await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { counter: 7 }), { ip: '203.0.113.9', clientId: 'portal' });
    expect(result).toMatchObject({ outcome: 'ok', accountId: account.id, userVerified: true, amr: ['pwd', 'hwk', 'user', 'mfa'], acr: 'phr' });
    const [stored] = await passkeys().list(account.id);
    expect(stored).toMatchObject({ counter: 7, lastUsedAt: clock.now() });
    const [signedIn] = await eventsOf(account.id, 'account.signed_in');
    expect(signedIn?.data).toMatchObject({ amr: ['pwd', 'hwk', 'user', 'mfa'], factor: 'passkey', passkeyId: passkey.id, userVerified: true, passwordless: false, clientId: 'portal' });
  });

  it('as second factor without user verification (presence only): accepted, without amr user; a synced (backup eligible) passkey gives swk', async () => {
    const { account, credential } = await accountWithPasskey('signin.presence');
    let ceremony = secondFactor(account.id);
    let options = await passkeys().beginAuthentication(ceremony);
    expect(await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { flags: FLAGS.UP }))).toMatchObject({ outcome: 'ok', userVerified: false, amr: ['pwd', 'hwk', 'mfa'] });
    ceremony = secondFactor(account.id);
    options = await passkeys().beginAuthentication(ceremony);
    expect(await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { flags: FLAGS.UP | FLAGS.UV | FLAGS.BE | FLAGS.BS }))).toMatchObject({ outcome: 'ok', amr: ['pwd', 'swk', 'user', 'mfa'] });
  });

  it('passwordless: asks for a discoverable credential with user verification required, finds the account from it, and counts as both factors', async () => {
    const { account, credential } = await accountWithPasskey('signin.passwordless');
    const ceremony = passwordless();
    const options = await passkeys().beginAuthentication(ceremony);
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.userVerification).toBe('required');
    const result = await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { counter: 1, userHandle: account.id }));
    expect(result).toMatchObject({ outcome: 'ok', accountId: account.id, amr: ['hwk', 'user', 'mfa'], acr: 'phr' });
  });

  it('passwordless: refuses an assertion without user verification, one whose user handle is another account\'s, and an unknown credential', async () => {
    const { account, credential } = await accountWithPasskey('signin.pl.refused');
    const other = await t.createAccount({ userId: 'signin.pl.other' });
    let ceremony = passwordless();
    let options = await passkeys().beginAuthentication(ceremony);
    expect(await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { flags: FLAGS.UP }))).toMatchObject({ outcome: 'refused' });
    ceremony = passwordless();
    options = await passkeys().beginAuthentication(ceremony);
    expect(await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { userHandle: other.id }))).toMatchObject({ outcome: 'refused' });
    ceremony = passwordless();
    options = await passkeys().beginAuthentication(ceremony);
    expect(await passkeys().completeAuthentication(ceremony, new SoftCredential().assertion(options.challenge, SITE))).toMatchObject({ outcome: 'refused', reason: 'unknown_credential' });
    expect((await eventsOf(account.id, 'account.sign_in_failed')).map((e) => e.data)).toEqual([
      expect.objectContaining({ factor: 'passkey', reason: 'assertion_refused' }), expect.objectContaining({ factor: 'passkey', reason: 'assertion_refused' }),
    ]);
  });

  it('refuses an assertion made on another origin (a relaying phishing page), and its challenge is spent', async () => {
    const { account, credential } = await accountWithPasskey('signin.origin');
    const ceremony = secondFactor(account.id);
    const options = await passkeys().beginAuthentication(ceremony);
    const forged = credential.assertion(options.challenge, { rpId: 'id.example.com', origin: 'https://id.example.com.evil.test' });
    expect(await passkeys().completeAuthentication(ceremony, forged)).toMatchObject({ outcome: 'refused', reason: 'assertion_refused' });
    expect(await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE))).toEqual({ outcome: 'expired' });
    expect((await passkeys().list(account.id))[0]?.lastUsedAt).toBeNull();
  });

  it('refuses an assertion for another RP ID, a registration answer in place of an assertion, and another account\'s passkey', async () => {
    const { account, credential } = await accountWithPasskey('signin.rpid');
    const stranger = await accountWithPasskey('signin.stranger');
    for (const answer of [
      (challenge: string) => credential.assertion(challenge, { rpId: 'evil.test', origin: ISSUER }),
      (challenge: string) => credential.assertion(challenge, SITE, { type: 'webauthn.create' }),
      (challenge: string) => stranger.credential.assertion(challenge, SITE),
    ]) {
      const ceremony = secondFactor(account.id);
      const options = await passkeys().beginAuthentication(ceremony);
      expect((await passkeys().completeAuthentication(ceremony, answer(options.challenge))).outcome).toBe('refused');
    }
  });

  it('refuses a cloned authenticator: a counter that did not increase is refused with passkey.clone_refused naming the passkey and credential, and the passkey is removed', async () => {
    const { account, credential, passkey } = await accountWithPasskey('signin.clone');
    const signIn = async (counter: number) => {
      const ceremony = secondFactor(account.id);
      const options = await passkeys().beginAuthentication(ceremony);
      return passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { counter }));
    };
    expect((await signIn(5)).outcome).toBe('ok');
    expect(await signIn(5)).toEqual({ outcome: 'cloned' });
    // The clone's next try, one counter higher, finds no passkey any more: it was removed at the first refusal.
    expect(await signIn(6)).toMatchObject({ outcome: 'refused', reason: 'unknown_credential' });
    expect(await passkeys().list(account.id)).toEqual([]);
    const clones = await eventsOf(account.id, 'passkey.clone_refused');
    expect(clones.map((e) => e.data)).toEqual([
      expect.objectContaining({ factor: 'passkey', passkeyId: passkey.id, credentialId: credential.id, storedCounter: 5, presentedCounter: 5, removed: true }),
    ]);
    expect((await eventsOf(account.id, 'account.sign_in_failed')).filter((e) => e.data.reason === 'counter_not_increased')).toHaveLength(1);
  });

  it('refuses a counter lower than the stored one as a clone too', async () => {
    const { account, credential, passkey } = await accountWithPasskey('signin.clone-lower');
    const signIn = async (counter: number) => {
      const ceremony = secondFactor(account.id);
      const options = await passkeys().beginAuthentication(ceremony);
      return passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { counter }));
    };
    expect((await signIn(5)).outcome).toBe('ok');
    expect(await signIn(3)).toEqual({ outcome: 'cloned' });
    expect((await eventsOf(account.id, 'passkey.clone_refused')).map((e) => e.data)).toEqual([
      expect.objectContaining({ passkeyId: passkey.id, storedCounter: 5, presentedCounter: 3, removed: true }),
    ]);
  });

  it('accepts an authenticator that keeps no counter (0 every time)', async () => {
    const { account, credential } = await accountWithPasskey('signin.nocounter');
    for (let i = 0; i < 2; i++) {
      const ceremony = secondFactor(account.id);
      const options = await passkeys().beginAuthentication(ceremony);
      expect((await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { counter: 0 }))).outcome).toBe('ok');
    }
  });

  it('of two assertions racing with the same counter, at most one is accepted', async () => {
    const { account, credential } = await accountWithPasskey('signin.race');
    const ceremonies = [secondFactor(account.id), { ...secondFactor(account.id) }];
    // Two interactions of the same account, each with its own challenge.
    const answers = await Promise.all(ceremonies.map(async (c) => credential.assertion((await passkeys().beginAuthentication(c)).challenge, SITE, { counter: 9 })));
    const outcomes = await Promise.all(ceremonies.map((c, i) => passkeys().completeAuthentication(c, answers[i])));
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['cloned', 'ok']);
  });

  it('refuses after the challenge expired, on another interaction, and a suspended account\'s passwordless sign-in', async () => {
    const { account, credential } = await accountWithPasskey('signin.expired');
    const ceremony = secondFactor(account.id);
    const options = await passkeys().beginAuthentication(ceremony);
    expect(await passkeys().completeAuthentication({ ...ceremony, interactionUid: 'another' }, credential.assertion(options.challenge, SITE))).toEqual({ outcome: 'expired' });
    clock.advance(301);
    expect(await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE))).toEqual({ outcome: 'expired' });

    await t.idp.identity.stores.accounts.setStatus(account.id, 'suspended', clock.now());
    const pl = passwordless();
    const plOptions = await passkeys().beginAuthentication(pl);
    expect(await passkeys().completeAuthentication(pl, credential.assertion(plOptions.challenge, SITE, { userHandle: account.id }))).toEqual({ outcome: 'refused', reason: 'account_suspended' });
  });

  it('counts refused assertions toward the lockout; a locked account is told so only for a valid assertion', async () => {
    const { account, credential } = await accountWithPasskey('signin.lockout');
    const forger = new SoftCredential();
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const ceremony = secondFactor(account.id);
      const options = await passkeys().beginAuthentication(ceremony);
      // The right credential ID with another key's signature.
      outcomes.push((await passkeys().completeAuthentication(ceremony, { ...forger.assertion(options.challenge, SITE), id: credential.id, rawId: credential.id })).outcome);
    }
    expect(outcomes).toEqual(['refused', 'refused', 'refused', 'refused', 'locked']);
    expect(await eventsOf(account.id, 'account.locked')).toEqual([expect.objectContaining({ data: { factor: 'passkey' } })]);
    let ceremony = passwordless();
    let options = await passkeys().beginAuthentication(ceremony);
    expect((await passkeys().completeAuthentication(ceremony, { ...forger.assertion(options.challenge, SITE), id: credential.id, rawId: credential.id })).outcome).toBe('refused');
    ceremony = passwordless();
    options = await passkeys().beginAuthentication(ceremony);
    expect((await passkeys().completeAuthentication(ceremony, credential.assertion(options.challenge, SITE, { counter: 1 }))).outcome).toBe('locked');
  });
});
