/**
 * Who is signing in, for the audit log: shared by every factor (identity/factors/*), the lockout accounting
 * (./factor-attempts.ts) and the sign-in flow (./sign-in-flow.ts).
 */

/** The client's IP address and the OIDC client the sign-in is for (both recorded in the audit events). */
export interface AttemptContext {
  ip?: string | null;
  clientId?: string | null;
}
