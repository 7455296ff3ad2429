/**
 * Where back-channel logouts (OIDC Back-Channel Logout 1.0 §2.7) are remembered until every session they end
 * has expired anyway. The adapter keeps sessions in cookies, so it cannot delete a session: it records the
 * logout at the logout token's `iat` and the session reader refuses every session it covers that began before.
 *
 * One process: the in-memory default is enough. Several instances behind a load balancer: the IdP posts the
 * logout token to one of them, so give every instance the same shared store (a Redis `SET key at PX ttl` and
 * `GET key`, or a database table with an expiry column) by implementing {@link LogoutStore}.
 */

/** A shared record of logouts. Keys are opaque strings chosen by the adapter; values are instants in milliseconds. */
export interface LogoutStore {
  /**
   * Records that `key` was logged out at `at` (milliseconds since the epoch). The entry must live at least
   * `ttlSeconds`; when `key` already exists, the later instant wins.
   */
  record(key: string, at: number, ttlSeconds: number): Promise<void>;
  /** When `key` was last logged out (milliseconds since the epoch), or null when never or expired. */
  loggedOutAt(key: string): Promise<number | null>;
}

/**
 * A {@link LogoutStore} in this process's memory: entries expire after their TTL (expired ones are dropped on
 * each `record`). Lost on restart and not shared between instances.
 * @param now - the clock in milliseconds (default `Date.now`).
 */
export function createMemoryLogoutStore(now: () => number = Date.now): LogoutStore {
  const entries = new Map<string, { at: number; expiresAt: number }>();
  return {
    async record(key, at, ttlSeconds) {
      const current = now();
      for (const [k, entry] of entries) if (entry.expiresAt <= current) entries.delete(k);
      const previous = entries.get(key);
      const expiresAt = Math.max(current + ttlSeconds * 1000, previous?.expiresAt ?? 0);
      entries.set(key, { at: Math.max(at, previous?.at ?? 0), expiresAt });
    },
    async loggedOutAt(key) {
      const entry = entries.get(key);
      return entry && entry.expiresAt > now() ? entry.at : null;
    },
  };
}
