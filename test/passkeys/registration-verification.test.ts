import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/authenticator.js';
import { freePort } from '../support/ports.js';
import { startTestIdp, type TestIdp } from '../support/harness.js';

const ISSUER = 'https://id.example.com';
const AAGUID = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

/**
 * A `none`-attestation registration answer (WebAuthn Level 3 §6.5, §5.2.1) built as an authenticator and a browser
 * would: an ES256 key, authenticator data with the RP ID hash and flags UP|UV|AT, client data with the challenge
 * and origin. `rpId` and `origin` let a test answer for another site.
 */
function craftedResponse(challenge: string, { rpId = 'id.example.com', origin = ISSUER, flags = 0x45 } = {}) {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const cose = isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
  const credentialId = randomBytes(16);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(credentialId.length);
  const authData = Buffer.concat([createHash('sha256').update(rpId).digest(), Buffer.from([flags]), Buffer.alloc(4), AAGUID, length, credentialId, Buffer.from(cose)]);
  const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]) as never);
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge, origin, crossOrigin: false }));
  const id = credentialId.toString('base64url');
  return { id, rawId: id, type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: clientDataJSON.toString('base64url'), attestationObject: Buffer.from(attestationObject).toString('base64url'), transports: ['internal'] } };
}

describe('passkey registration is verified against ISSUER and the session\'s one-use challenge', () => {
  let t: TestIdp;
  const clock = new ManualClock();

  beforeAll(async () => {
    // The issuer is only a name here: these calls go to the service, never over HTTP.
    t = await startTestIdp({ ISSUER, PORT: String(await freePort()) }, { clock });
  });
  afterAll(() => t?.close());

  async function begin(userId: string, sessionUid = `session-${userId}`) {
    const user = await t.createAccount({ userId });
    const account = (await t.idp.identity.accounts.findAccount(user.id))!.account;
    const options = await t.idp.identity.passkeys.beginRegistration(account, sessionUid);
    return { account, options, sessionUid };
  }

  it('derives the RP ID from ISSUER and asks for user verification, a discoverable credential if possible, and no attestation', async () => {
    const { options } = await begin('verify.options');
    expect(options.rp).toEqual({ id: 'id.example.com', name: 'connect-iam' });
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'preferred', userVerification: 'required' });
    expect(options.attestation).toBe('none');
  });

  it('accepts a well-formed answer for this origin and RP ID, and records the AAGUID', async () => {
    const { account, options, sessionUid } = await begin('verify.ok');
    const result = await t.idp.identity.passkeys.completeRegistration(account, sessionUid, { name: 'Key', response: craftedResponse(options.challenge) });
    expect(result.outcome).toBe('ok');
    expect((await t.idp.identity.passkeys.list(account.id))[0]?.aaguid).toBe('01234567-89ab-cdef-0123-456789abcdef');
  });

  it('refuses an answer from another origin, and the challenge is spent', async () => {
    const { account, options, sessionUid } = await begin('verify.origin');
    const refused = await t.idp.identity.passkeys.completeRegistration(account, sessionUid, { name: 'Key', response: craftedResponse(options.challenge, { origin: 'https://id.example.com.evil.test' }) });
    expect(refused.outcome).toBe('refused');
    const again = await t.idp.identity.passkeys.completeRegistration(account, sessionUid, { name: 'Key', response: craftedResponse(options.challenge) });
    expect(again.outcome).toBe('expired');
    expect(await t.idp.identity.passkeys.list(account.id)).toHaveLength(0);
  });

  it('refuses an answer whose authenticator data is for another RP ID', async () => {
    const { account, options, sessionUid } = await begin('verify.rpid');
    const refused = await t.idp.identity.passkeys.completeRegistration(account, sessionUid, { name: 'Key', response: craftedResponse(options.challenge, { rpId: 'evil.test' }) });
    expect(refused.outcome).toBe('refused');
    expect(await t.idp.identity.passkeys.list(account.id)).toHaveLength(0);
  });

  it('refuses an answer without user verification', async () => {
    const { account, options, sessionUid } = await begin('verify.uv');
    const refused = await t.idp.identity.passkeys.completeRegistration(account, sessionUid, { name: 'Key', response: craftedResponse(options.challenge, { flags: 0x41 }) });
    expect(refused.outcome).toBe('refused');
  });

  it('refuses an answer on another session, for another challenge, or after the challenge expired', async () => {
    const { account, options, sessionUid } = await begin('verify.session');
    expect((await t.idp.identity.passkeys.completeRegistration(account, 'another-session', { name: 'Key', response: craftedResponse(options.challenge) })).outcome).toBe('expired');
    expect((await t.idp.identity.passkeys.completeRegistration(account, sessionUid, { name: 'Key', response: craftedResponse('b3RoZXItY2hhbGxlbmdl') })).outcome).toBe('refused');

    const late = await begin('verify.late');
    clock.advance(301);
    expect((await t.idp.identity.passkeys.completeRegistration(late.account, late.sessionUid, { name: 'Key', response: craftedResponse(late.options.challenge) })).outcome).toBe('expired');
  });

  it('refuses a missing or too long name before spending the challenge', async () => {
    const { account, options, sessionUid } = await begin('verify.name');
    await expect(t.idp.identity.passkeys.completeRegistration(account, sessionUid, { name: '  ', response: craftedResponse(options.challenge) })).rejects.toMatchObject({ code: 'validation_failed', fieldErrors: { name: [expect.any(String)] } });
    await expect(t.idp.identity.passkeys.completeRegistration(account, sessionUid, { name: 'x'.repeat(65), response: craftedResponse(options.challenge) })).rejects.toMatchObject({ code: 'validation_failed' });
    expect((await t.idp.identity.passkeys.completeRegistration(account, sessionUid, { name: 'Key', response: craftedResponse(options.challenge) })).outcome).toBe('ok');
  });
});
