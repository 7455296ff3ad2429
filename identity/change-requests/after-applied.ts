/**
 * What follows an applied change, once its transaction has committed — whether the checker or the operator
 * completed it: its audit events (whose subscribers send back-channel logouts), the new account's
 * set-password link, and the account holder's mail when their second factor was reset.
 */
import { notifyAccountHolder } from '../authenticators/notify.js';
import type { EventInput } from '../events.js';
import type { ChangeRequestContext } from './context.js';
import type { ChangeRequest } from './model.js';

/**
 * Publishes `applied` and sends the mails `request` calls for. A set-password link's failure is logged and
 * recorded, never thrown: the change is committed.
 */
export async function afterApplied(ctx: ChangeRequestContext, request: ChangeRequest, applied: EventInput[]): Promise<void> {
  for (const event of applied) await ctx.events.publish(event, ctx.clock.now());
  if (request.type === 'create_account' && request.accountId) {
    await ctx.sendSetPasswordLink(request.accountId, { reference: request.reference, actor: request.checkerId ?? request.makerId, organizationId: request.organizationId });
  }
  if (request.type === 'reset_second_factor' && request.accountId) {
    const account = await ctx.accounts.findById(request.accountId);
    if (account) await notifyAccountHolder(ctx.mailer, ctx.displayName, account, 'your second factor was reset', `Your second factor was reset (${request.reference}), as your delegated administrators requested. Sign-in now sends a one-time code to this email address.`);
  }
}
