/**
 * Where the `jti` of each accepted logout token is remembered until the token expires, so that a replayed token
 * is refused (OIDC Back-Channel Logout 1.0 §2.6 step 7: "verify that another Logout Token with the same jti value
 * has not been recently received"); likewise each accepted DPoP proof's `jti` until its `iat` plus the proof
 * window (RFC 9449 §11.1).
 *
 * One process: the in-memory default is enough. Several instances behind a load balancer: a replay may reach
 * another instance than the original, so give every instance the same shared store by implementing
 * {@link ReplayStore} — a Redis `SET key 1 NX EX ttl` (true when it answers OK), or a database table with a
 * primary key and an expiry column (`INSERT … ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
 * WHERE t.expires_at <= now()`, true when one row was written).
 */

/** A shared record of single-use keys. Keys are opaque strings chosen by the adapter. */
export interface ReplayStore {
  /**
   * Records `key` for at least `ttlSeconds` unless it is already recorded and not yet expired.
   * Must be atomic: of two concurrent calls with one key, exactly one resolves true.
   * @returns true when this call recorded `key` (its first use), false when it was already recorded (a replay).
   */
  consume(key: string, ttlSeconds: number): Promise<boolean>;
}

/**
 * A {@link ReplayStore} in this process's memory: entries expire after their TTL (expired ones are dropped on
 * each `consume`). Lost on restart and not shared between instances.
 * @param now - the clock in milliseconds (default `Date.now`).
 */
export function createMemoryReplayStore(now: () => number = Date.now): ReplayStore {
  const expiries = new Map<string, number>();
  return {
    async consume(key, ttlSeconds) {
      const current = now();
      for (const [k, expiresAt] of expiries) if (expiresAt <= current) expiries.delete(k);
      if (expiries.has(key)) return false;
      expiries.set(key, current + ttlSeconds * 1000);
      return true;
    },
  };
}
