/**
 * Re-encrypts every value sealed under `ENCRYPTION_KEY` — authenticator secrets, client secrets, private
 * signing keys — under the current key, after a key rotation (docs/authenticator.md). Each value is opened
 * with the current or a previous key and rewritten only if unchanged meanwhile (conditional UPDATE), so it is
 * safe while servers run. Values sealed before contexts existed (v1) come out sealed for their row (v2), also
 * when `ALLOW_LEGACY_SEALED=false`: re-sealing them is what this is for.
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import { openWithAnyKey, seal, type SealingKeys } from '../lib/index.js';
import { resealAuthenticatorSecrets } from './authenticator-store.js';
import { clientSecretContext } from './client-store.js';
import { privateKeyContext } from './signing-key-store.js';
import type { Db } from './database.js';
import { oidcClients, signingKeys } from './schema.js';

/** How many values {@link resealSecrets} rewrote, per kind. */
export interface ResealCounts {
  authenticatorSecrets: number;
  clientSecrets: number;
  signingKeys: number;
}

/**
 * Re-seals every sealed value under `sealing.current` (`sealing.allowLegacy` is ignored: v1 values are opened to be upgraded).
 * @throws Error when a value cannot be opened with any configured key (values after it are not rewritten).
 */
export async function resealSecrets(db: Db, sealing: SealingKeys): Promise<ResealCounts> {
  const keys: SealingKeys = { ...sealing, allowLegacy: true };
  const authenticatorSecrets = await resealAuthenticatorSecrets(db, keys);
  let clientSecrets = 0;
  for (const row of await db.select({ id: oidcClients.clientId, value: oidcClients.clientSecret }).from(oidcClients).where(isNotNull(oidcClients.clientSecret))) {
    if (row.value === null) continue;
    const updated = await db
      .update(oidcClients)
      .set({ clientSecret: seal(openWithAnyKey(row.value, keys, clientSecretContext(row.id)), keys.current, clientSecretContext(row.id)) })
      .where(and(eq(oidcClients.clientId, row.id), eq(oidcClients.clientSecret, row.value)))
      .returning({ id: oidcClients.clientId });
    clientSecrets += updated.length;
  }
  let signingKeyCount = 0;
  for (const row of await db.select({ id: signingKeys.kid, value: signingKeys.privateJwk }).from(signingKeys)) {
    const updated = await db
      .update(signingKeys)
      .set({ privateJwk: seal(openWithAnyKey(row.value, keys, privateKeyContext(row.id)), keys.current, privateKeyContext(row.id)) })
      .where(and(eq(signingKeys.kid, row.id), eq(signingKeys.privateJwk, row.value)))
      .returning({ id: signingKeys.kid });
    signingKeyCount += updated.length;
  }
  return { authenticatorSecrets, clientSecrets, signingKeys: signingKeyCount };
}
