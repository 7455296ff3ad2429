/**
 * What follows an applied change, once its transaction has committed — whether the checker or the operator
 * completed it: its audit events, already written in that transaction, go to the bus's other subscribers (which
 * send back-channel logouts); then the new account's set-password link, and the account holder's mail when
 * their second factor was reset.
 */
import { notifyAccountHolder } from '../authenticators/notify.js';
import type { AuditEvent } from '../model.js';
import type { ChangeRequestContext } from './context.js';
import type { ChangeRequest } from './model.js';
import { publishRecorded } from './publish.js';

/**
 * Publishes `recorded` (the events `recordInTransaction` wrote) and sends the mails `request` calls for. A
 * set-password link's failure is logged and recorded, never thrown: the change is committed.
 */
export async function afterApplied(ctx: ChangeRequestContext, request: ChangeRequest, recorded: AuditEvent[]): Promise<void> {
  await publishRecorded(ctx, recorded);
  if (request.type === 'create_account' && request.accountId) {
    await ctx.sendSetPasswordLink(request.accountId, { reference: request.reference, actor: request.checkerId ?? request.makerId, organizationId: request.organizationId });
  }
  if (request.type === 'reset_second_factor' && request.accountId) {
    const account = await ctx.accounts.findById(request.accountId);
    if (account) await notifyAccountHolder(ctx.mailer, ctx.displayName, account, 'your second factor was reset', `Your second factor was reset (${request.reference}), as your delegated administrators requested: your authenticator app and your passkeys, if you had any, were removed. Sign-in now sends a one-time code to this email address.`);
  }
}
