/** Cookie helpers for supertest responses and signed-in requests in portal-adapters tests. */
import type { Response } from 'supertest';
import { createSessionCodec, type PortalSession } from '../../../portal-adapters/index.js';

/** `Set-Cookie` headers of a response, by cookie name. */
export function setCookies(res: Response): Map<string, string> {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return new Map((raw ?? []).map((line) => [line.slice(0, line.indexOf('=')), line]));
}

/** The `name=value` part of a `Set-Cookie` line, ready for a `Cookie` header. */
export function cookiePair(setCookieLine: string | undefined): string {
  if (!setCookieLine) throw new Error('cookie not set');
  return setCookieLine.split(';')[0]!;
}

/** A session as `/auth/callback` would build it; override what the test is about. */
export function testSession(overrides: Partial<PortalSession> = {}): PortalSession {
  return {
    sub: 'account-1',
    name: 'Jamie Chan',
    email: 'jamie@broker.example',
    organization: { id: 'org-1', name: 'Example Securities', participantIds: ['B01234', 'CXYZ'] },
    functions: [],
    amr: ['pwd', 'otp'],
    idToken: 'header.payload.signature',
    csrfToken: 'csrf-token-for-tests',
    ...overrides,
  };
}

/** A `Cookie` header carrying a real encrypted session, sealed with the module's own codec. */
export async function sessionCookie(
  app: { cookieSecret: string; clientId: string; cookieName: string },
  overrides: Partial<PortalSession> = {},
): Promise<string> {
  const sealed = await createSessionCodec(app).seal(testSession(overrides), 600);
  return `${app.cookieName}=${sealed}`;
}
