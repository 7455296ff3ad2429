/**
 * Helpers the operator screens share: who the operator is, rendering a view with a refused form's problem,
 * and turning a domain refusal into that problem.
 */
import type express from 'express';
import type { OperatorContext } from './gate.js';
import { formProblem, type FormProblem } from './render.js';

/** The signed-in operator (set by the gate; operator routes run only for operators). */
export function operatorOf(res: express.Response): OperatorContext {
  return res.locals.operator as OperatorContext;
}

/** Renders an operator view with status `problem.status` when a form was refused, else 200. */
export function renderOperator(res: express.Response, view: string, model: Record<string, unknown>, problem: FormProblem | null = null): void {
  res.status(problem?.status ?? 200).render(view, { problem, ...model });
}

/** Splits a textarea or list into its non-empty, trimmed entries. */
export function entriesOf(text: string, separator: RegExp): string[] {
  return text.split(separator).map((e) => e.trim()).filter((e) => e.length > 0);
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
