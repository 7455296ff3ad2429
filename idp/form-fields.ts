/**
 * Fields of the IdP's forms (sign-in, codes, forgot password, reset, account page): each names the sentence a
 * person reads when the field is missing, repeated (a list instead of one value), too long, or otherwise wrong in
 * a way its own checks do not word. zod's per-schema `error` applies to every issue of that field that carries no
 * message of its own, so zod's developer text ("Invalid input: expected string, received undefined") can never
 * reach a page. Checks with their own, more precise sentence keep it.
 */
import { z } from 'zod';

/**
 * A text field whose problems read `sentence` unless a check says otherwise.
 * @example formText('Enter your password.').min(1, 'Enter your password.')
 */
export function formText(sentence: string): z.ZodString {
  return z.string({ error: sentence });
}

/**
 * A one-time code field (6 digits; spaces allowed, e.g. "123 456", and removed): every problem reads `sentence`.
 * At most 20 characters are read.
 */
export function formCode(sentence: string) {
  return formText(sentence).max(20, sentence).transform((c) => c.replace(/\s+/g, '')).pipe(z.string().regex(/^\d{6}$/, sentence));
}
