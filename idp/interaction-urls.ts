/**
 * URLs of the interaction pages. Each carries the client's id as a hint (`?client_id=`): when the
 * interaction is gone (finished, expired, replayed from the history or a bookmark), the hint still lets the
 * sign-in restart at that client's registered `initiate_login_uri`. A forged hint can only pick another
 * registered client's registered URI.
 */

/** Path of interaction `uid`, without query: also the path its cookies are scoped to. */
export function interactionPath(basePath: string, uid: string): string {
  return `${basePath}/interaction/${encodeURIComponent(uid)}`;
}

/** URLs of the steps of interaction `uid` of client `clientId`. */
export function stepUrls(basePath: string, uid: string, clientId: unknown) {
  const base = interactionPath(basePath, uid);
  const hint = typeof clientId === 'string' && clientId ? `?client_id=${encodeURIComponent(clientId)}` : '';
  return {
    show: `${base}${hint}`,
    password: `${base}/password${hint}`,
    emailOtp: `${base}/email-otp${hint}`,
    resendCode: `${base}/email-otp/resend${hint}`,
    appCode: `${base}/app-code${hint}`,
    emailInstead: `${base}/app-code/email-instead${hint}`,
    register: `${base}/register${hint}`,
    registerConfirm: `${base}/register/confirm${hint}`,
    registerSkip: `${base}/register/skip${hint}`,
    organization: `${base}/organization${hint}`,
    consent: `${base}/consent${hint}`,
    passkey: `${base}/passkey${hint}`,
    passkeyOptions: `${base}/passkey/options${hint}`,
    passkeyInstead: `${base}/passkey/instead${hint}`,
    passkeyRegister: `${base}/passkey/register${hint}`,
  };
}
