/**
 * A WebAuthn authenticator and client in a few lines of node:crypto, for tests that call the passkey service
 * directly: it makes `none`-attestation registration answers (WebAuthn Level 3 §6.5, §5.2.1) and signed
 * assertions (§6.3.3, §5.2.2) exactly as an authenticator and a browser would, and lets a test answer for another
 * origin or RP ID, with any flags and signature counter: what a real browser would never send.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/** Authenticator data flags (§6.1). */
export const FLAGS = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array | Buffer) => Buffer.from(data).toString('base64url');

/** Where an answer claims to come from. */
export interface Site {
  rpId: string;
  origin: string;
}

/** One credential of the authenticator: an ES256 key pair and a credential ID. */
export class SoftCredential {
  readonly credentialId = randomBytes(16);
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The AAGUID written into the attested credential data (16 bytes). */
  constructor(readonly aaguid: Buffer = Buffer.from('0123456789abcdef0123456789abcdef', 'hex')) {
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  /** The registration answer (RegistrationResponseJSON) to `challenge`; flags default to UP|UV|AT. */
  registrationResponse(challenge: string, site: Site, flags: number = FLAGS.UP | FLAGS.UV | FLAGS.AT) {
    const jwk = this.publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
    const length = Buffer.alloc(2);
    length.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([sha256(site.rpId), Buffer.from([flags]), Buffer.alloc(4), this.aaguid, length, this.credentialId, Buffer.from(cose)]);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]) as never);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge, origin: site.origin, crossOrigin: false }));
    return { id: this.id, rawId: this.id, type: 'public-key', clientExtensionResults: {}, response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal'] } };
  }

  /**
   * The assertion (AuthenticationResponseJSON) to `challenge`, signed over authenticator data and the client
   * data's hash (§6.3.3 step 11). `counter` is the signature counter it reports; `userHandle` the user ID it
   * returns (a discoverable credential returns it).
   */
  assertion(challenge: string, site: Site, options: { counter?: number; flags?: number; userHandle?: string; type?: string } = {}) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(options.counter ?? 0);
    const authData = Buffer.concat([sha256(site.rpId), Buffer.from([options.flags ?? FLAGS.UP | FLAGS.UV]), counter]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: options.type ?? 'webauthn.get', challenge, origin: site.origin, crossOrigin: false }));
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), this.privateKey);
    return {
      id: this.id, rawId: this.id, type: 'public-key', clientExtensionResults: {}, authenticatorAttachment: 'platform',
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(signature), ...(options.userHandle ? { userHandle: b64url(Buffer.from(options.userHandle)) } : {}) },
    };
  }
}
