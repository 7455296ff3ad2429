/**
 * Emails about change requests (design/domain.md: every status change notifies the next person): the
 * organization's other DAs when a request is submitted; the maker when it is completed, sent to the
 * operator or rejected. Best effort: the transition is already saved, so failures are counted, not thrown.
 */
import type { Account } from '../model.js';
import type { ChangeRequestContext } from './context.js';
import { STATUS_LABELS, type ChangeRequest } from './model.js';

async function send(ctx: ChangeRequestContext, to: Account[], subject: string, text: string): Promise<number> {
  let sent = 0;
  for (const account of to) {
    try {
      await ctx.mailer.send({ to: account.email, subject: `${ctx.displayName}: ${subject}`, text: `Hello ${account.name},\n\n${text}\n` });
      sent++;
    } catch {
      // counted as not sent; the event records how many were
    }
  }
  return sent;
}

/** Tells the organization's other DAs that `request` awaits a checker. @returns how many mails were handed over. */
export async function notifySubmitted(ctx: ChangeRequestContext, request: ChangeRequest, makerName: string): Promise<number> {
  const checkers = (await ctx.changeRequests.delegatedAdministrators(request.organizationId)).filter((a) => a.id !== request.makerId && a.status === 'active');
  return send(ctx, checkers, `${request.reference} is ready for checker`, `${makerName} submitted change request ${request.reference}: ${request.title}.\nSign in to the admin console to claim and check it.`);
}

/**
 * Tells the maker what became of `request` (completed, sent to operator or rejected; `comment` is the rejection's,
 * `note` says why it went to the operator).
 * @returns how many mails were handed over (0 or 1).
 */
export async function notifyMaker(ctx: ChangeRequestContext, request: ChangeRequest, comment: string | null = null, note: string | null = null): Promise<number> {
  const maker = await ctx.accounts.findById(request.makerId);
  if (!maker) return 0;
  const status = STATUS_LABELS[request.status];
  const why = comment ? `\nComment: ${comment}` : '';
  const because = note ? `\n${note}` : '';
  return send(ctx, [maker], `${request.reference} ${status.toLowerCase()}`, `Your change request ${request.reference} (${request.title}) is now: ${status}.${because}${why}`);
}
