/**
 * Helpers the operator screens share: who the operator is, rendering a view with a refused form's problem,
 * and splitting list fields. (Form problems themselves: render.ts, shared with the DA screens.)
 */
import type express from 'express';
import type { OperatorContext } from './gate.js';
import type { FormProblem } from './render.js';

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
