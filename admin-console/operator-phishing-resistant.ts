/**
 * The operator's phishing-resistant rule for delegated administrators (issue 13 §4), on the organizations
 * screens: the rule for every organization (`POST /operator/phishing-resistant`, on the organizations list) and
 * an organization's own (`POST /operator/organizations/:id/phishing-resistant`, on its page). Each change is
 * audited (`phishing_resistant_rule.changed`); the grace period is entered in days.
 */
import express from 'express';
import { z } from 'zod';
import { formatInstant, type EffectivePhishingResistantRule, type Identity } from '../identity/index.js';
import { MAX_PHISHING_RESISTANT_GRACE_PERIOD_SECONDS } from '../policies/index.js';
import { operatorOf } from './operator-forms.js';
import { attempt, isProblem, MALFORMED_FORM, type FormProblem } from './render.js';

const DAY_SECONDS = 86_400;
const MAX_DAYS = MAX_PHISHING_RESISTANT_GRACE_PERIOD_SECONDS / DAY_SECONDS;

/** Exactly the fields the rule forms show (no mass assignment). */
const ruleForm = z.object({ requirement: z.string().max(40).default(''), gracePeriodDays: z.string().max(12).default('') });

/** The grace period field: whole days, 0 to {@link MAX_DAYS}. */
const graceDays = z.coerce.number({ error: 'Give the grace period in whole days.' }).int('Give the grace period in whole days.').min(0, 'The grace period cannot be negative.').max(MAX_DAYS, `The grace period is at most ${MAX_DAYS} days.`);

/** What the rule's card shows and its form starts from. */
export interface PhishingResistantView {
  /** The form's current choice. */
  requirement: 'required' | 'not_required' | 'every_organization';
  gracePeriodDays: string;
  /** The rule in force as a sentence, e.g. `Required since 01-Dec-2026 16:40 UTC; delegated administrators without a passkey may skip until 15-Dec-2026 16:40 UTC.` */
  summary: string;
  /** Where it comes from, e.g. `Set for this organization by operator:… on …`. */
  source: string;
  /** Short form for tables: `Required` or `Not required`. */
  short: string;
}

/** The view of `effective` for an organization (`organization` true) or for every organization. */
export function phishingResistantView(effective: EffectivePhishingResistantRule, organization: boolean, timeZone: string): PhishingResistantView {
  const { rule, source, stored } = effective;
  const at = (d: Date) => formatInstant(d, timeZone);
  const days = Math.round(rule.gracePeriodSeconds / DAY_SECONDS);
  let summary = 'Not required: delegated administrators sign in with any second factor.';
  if (rule.required && rule.effectiveFrom) {
    const deadline = new Date(rule.effectiveFrom.getTime() + rule.gracePeriodSeconds * 1000);
    summary = `Required since ${at(rule.effectiveFrom)}: delegated administrators without a passkey are asked to register one at sign-in, and may skip until ${at(deadline)} (${days} day${days === 1 ? '' : 's'} of grace).`;
  } else if (rule.required) summary = 'Required: delegated administrators without a passkey are asked to register one at sign-in, and may skip (no deadline).';
  const by = stored ? ` by ${stored.updatedBy} on ${at(stored.updatedAt)}` : '';
  const sources = { organization: `Set for this organization${by}.`, every_organization: `${organization ? 'The rule for every organization, set' : 'Set'}${by}.`, default: 'The default (policies/phishing-resistant.ts): nobody has set a rule.' };
  const requirement = organization && source !== 'organization' ? 'every_organization' : rule.required ? 'required' : 'not_required';
  return { requirement, gracePeriodDays: String(days), summary, source: sources[source], short: rule.required ? 'Required' : 'Not required' };
}

/**
 * Saves the rule the form `body` gives for `organizationId` (null: every organization), as the signed-in operator.
 * @returns null when saved, else the form's problem (field errors `requirement`, `gracePeriodDays`).
 */
export async function saveRule(identity: Identity, res: express.Response, organizationId: string | null, body: unknown): Promise<FormProblem | null> {
  const form = ruleForm.safeParse(body);
  if (!form.success) return MALFORMED_FORM;
  const days = graceDays.safeParse(form.data.gracePeriodDays.trim());
  if (!days.success) return { status: 400, message: 'The rule is not valid.', fieldErrors: { gracePeriodDays: [days.error.issues[0]?.message ?? 'Give the grace period in whole days.'] } };
  const saved = await attempt(() => identity.phishingResistant.setRule(organizationId, { requirement: form.data.requirement as 'required', gracePeriodSeconds: days.data * DAY_SECONDS }, operatorOf(res).actor));
  if (!isProblem(saved)) return null;
  const { gracePeriodSeconds, ...others } = saved.fieldErrors;
  return { ...saved, fieldErrors: gracePeriodSeconds ? { ...others, gracePeriodDays: gracePeriodSeconds } : others };
}

/** `POST /phishing-resistant` (mounted under `/operator`): the rule for every organization; back to the organizations list. */
export function operatorPhishingResistantRoutes(identity: Identity, renderList: (res: express.Response, problem: FormProblem | null, ruleValues: { requirement: string; gracePeriodDays: string } | null) => Promise<void>): express.Router {
  const router = express.Router();
  router.post('/phishing-resistant', async (req, res) => {
    const problem = await saveRule(identity, res, null, req.body);
    if (!problem) return res.redirect(303, '/operator/organizations?done=rule#passkey-rule');
    const entered = ruleForm.safeParse(req.body);
    await renderList(res, problem, entered.success ? entered.data : null);
  });
  return router;
}
