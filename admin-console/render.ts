/**
 * Turning domain errors into pages: `not_found` is the 404 page (another organization's ids look exactly
 * like unknown ones); other exposed errors come back to the form with their message and field errors.
 */
import type { Response } from 'express';
import { DomainError } from '../lib/index.js';

/** Renders the 404 page. */
export function notFound(res: Response): void {
  res.status(404).render('error', { title: 'Page not found', message: 'There is no such page among those you administer.' });
}

/** What a form shows after a refused action. */
export interface FormProblem {
  status: number;
  message: string;
  fieldErrors: Record<string, string[]>;
}

/**
 * The problem to show for `error`, or null when it is not a safe-to-show domain error (then rethrow it) —
 * `not_found` included, which callers answer with {@link notFound}.
 */
export function formProblem(error: unknown): FormProblem | null {
  if (!(error instanceof DomainError) || !error.expose || error.code === 'not_found') return null;
  return { status: error.status, message: error.message, fieldErrors: error.fieldErrors ?? {} };
}

/** True for a domain `not_found`. */
export function isNotFound(error: unknown): boolean {
  return error instanceof DomainError && error.code === 'not_found';
}

/** The problem of a form whose body did not even parse (a field too long, a repeated field). */
export const MALFORMED_FORM: FormProblem = { status: 400, message: 'The form is not valid.', fieldErrors: {} };

/** True for a {@link FormProblem} returned by {@link attempt}. */
export function isProblem(value: unknown): value is FormProblem {
  return typeof value === 'object' && value !== null && 'fieldErrors' in value && 'message' in value && 'status' in value;
}

/** Calls `run`; a safe-to-show domain refusal becomes the form's problem, anything else (including `not_found`) propagates. */
export async function attempt<T>(run: () => Promise<T>): Promise<T | FormProblem> {
  try {
    return await run();
  } catch (error) {
    const problem = formProblem(error);
    if (!problem) throw error;
    return problem;
  }
}
