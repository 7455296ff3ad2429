/**
 * Phone numbers as password reset compares them: digits only, so `+852 5555-0000`, `(852) 55550000` and
 * `85255550000` are the same number (the seeds' FAQ 18: "without symbols and spaces").
 */
import { safeEqual, sha256Hex } from '../../lib/index.js';

/** The digits of `phone`, in order: `+852 (5555) 0000` → `85255550000`. */
export function phoneDigits(phone: string): string {
  return phone.replace(/\D/g, '');
}

/**
 * True when both numbers have the same digits (and at least one). Compares SHA-256 digests in constant time,
 * so the time taken says nothing about how many digits matched.
 */
export function phonesMatch(registered: string, entered: string): boolean {
  const a = phoneDigits(registered);
  const b = phoneDigits(entered);
  return safeEqual(sha256Hex(a), sha256Hex(b)) && a.length > 0;
}
