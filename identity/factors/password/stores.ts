/**
 * What the password factor reads and writes. It has no table of its own: the argon2id hash is the account's
 * (AccountStore) and every attempt goes through the lockout shared by all factors (LockoutStore, whose
 * `reserveAttemptByLogin` finds the account and reserves its attempt in one statement).
 */
import type { AccountStore, LockoutStore } from '../../stores.js';

/** The password factor's stores: the methods of the shared account and lockout stores it uses. */
export interface PasswordStores {
  accounts: Pick<AccountStore, 'findById' | 'findByLogin'>;
  lockouts: Pick<LockoutStore, 'reserveAttemptByLogin' | 'reserveLockedCheck' | 'lockIfExhausted' | 'releaseAttempt'>;
}
