/**
 * The application session: who signed in, for which organization, holding which functions. Built once from
 * the validated ID token (OIDC Core §3.1.3.7) and kept in an encrypted cookie until it expires.
 */
import { randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { createSealer, type Sealer } from './sealed-cookie.js';

/** The organization the person acts for (ID token claim `organization`). */
export interface PortalOrganization {
  id: string;
  name: string;
  /** Participant IDs the organization holds, e.g. `['B01234', 'CXYZ']` (claim `participant_ids`). */
  participantIds: string[];
}

/** A signed-in person as the application sees them. */
export interface PortalSession {
  /** The account's subject identifier (`sub`). */
  sub: string;
  name: string | null;
  email: string | null;
  organization: PortalOrganization | null;
  /** Catalogued function names held in that organization (claim `functions`); empty when absent. */
  functions: string[];
  /** Authentication methods used at sign-in (`amr`, RFC 8176), e.g. `['pwd', 'otp']`. */
  amr: string[];
  /**
   * The Authentication Context Class Reference the sign-in reached (ID token claim `acr`, OIDC Core §2), e.g.
   * `phr` for a phishing-resistant sign-in (a passkey); absent when the IdP sent none.
   */
  acr?: string;
  /** The raw ID token, sent back as `id_token_hint` at logout (OIDC RP-Initiated Logout 1.0 §2). */
  idToken: string;
  /** Synchronizer token for the logout form (`_csrf` field). */
  csrfToken: string;
  /**
   * The IdP session's id for this client (ID token claim `sid`, OIDC Back-Channel Logout 1.0 §2.1); absent when
   * the IdP sent none. A logout token with this `sid` ends the session.
   */
  sid?: string;
  /**
   * When the session began, in milliseconds since the epoch on the issuer's clock: the ID token's `iat` second,
   * refined within it by this server's clock (`issuerInstant`). A logout token (with this `sid` or this
   * `sub`) ends the session when it was issued at or after this instant; a session begun later survives it.
   * Absent (sessions sealed by older versions or tools): any such logout ends it.
   */
  signedInAt?: number;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const stringOrNull = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function organizationFrom(claim: unknown): PortalOrganization | null {
  if (!claim || typeof claim !== 'object') return null;
  const o = claim as Record<string, unknown>;
  if (typeof o.id !== 'string' || typeof o.name !== 'string') return null;
  return { id: o.id, name: o.name, participantIds: strings(o.participant_ids) };
}

/**
 * An instant in milliseconds on the issuer's clock, for comparing an ID token with a logout token: the second
 * `iatSeconds` (a JWT `iat`, RFC 7519 §4.1.6) refined by this server's clock `localMs` while that falls within
 * the second, else the second's first or last millisecond. Both tokens' `iat` come from the issuer's clock, so
 * any skew of this server's clock only matters within one second; inside it, local order decides.
 */
export function issuerInstant(iatSeconds: number, localMs: number): number {
  const start = Math.floor(iatSeconds) * 1000;
  return Math.min(Math.max(localMs, start), start + 999);
}

/**
 * Maps validated ID token claims to a {@link PortalSession}. Claims of the wrong shape are dropped, so a
 * missing `functions` claim means "no function" (deny by default). `signedInAt`: `now` (milliseconds, default
 * `Date.now()`) placed within the ID token's `iat` second by {@link issuerInstant}; `now` when `iat` is absent.
 */
export function sessionFromIdToken(claims: JWTPayload, idToken: string, now: number = Date.now()): PortalSession {
  if (typeof claims.sub !== 'string') throw new TypeError('ID token has no sub');
  const signedInAt = typeof claims.iat === 'number' ? issuerInstant(claims.iat, now) : now;
  return {
    ...(typeof claims.sid === 'string' && claims.sid !== '' ? { sid: claims.sid } : {}),
    signedInAt,
    sub: claims.sub,
    name: stringOrNull(claims.name),
    email: stringOrNull(claims.email),
    organization: organizationFrom(claims.organization),
    functions: strings(claims.functions),
    amr: strings(claims.amr),
    ...(typeof claims.acr === 'string' && claims.acr !== '' ? { acr: claims.acr } : {}),
    idToken,
    csrfToken: randomBytes(32).toString('base64url'),
  };
}

function isSession(v: JWTPayload): boolean {
  return typeof v.sub === 'string' && Array.isArray(v.functions) && typeof v.idToken === 'string' && typeof v.csrfToken === 'string';
}

/**
 * The session cookie codec. Exported so tests and tools can build a session cookie exactly as
 * `/auth/callback` does: `cookie = await codec.seal(session, ttlSeconds)`.
 * @param options.cookieSecret - the same secret given to `createPortalAuth` (≥ 32 characters).
 * @param options.clientId - the same client id: sessions of one client never open in another.
 */
export function createSessionCodec(options: { cookieSecret: string; clientId: string }): Sealer<PortalSession> {
  return createSealer<PortalSession>(options.cookieSecret, `session:${options.clientId}`, isSession);
}
