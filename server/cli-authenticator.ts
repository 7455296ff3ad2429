/**
 * Operator CLI commands for authenticator apps (`npm run iam -- …`, each with `--json`):
 *   campaign create --registered-before T --effective-from T [--skip-until T]
 *   campaign list                      progress: affected / re-registered / skipped
 *   campaign close --id ID
 *   account reset-factor --user-id U   removes the app and the passkeys; the person falls back to emailed codes and is emailed
 * Times are ISO 8601 (e.g. `2024-12-15T00:00:00+08:00`). Errors follow cli.ts (exit 1 for domain refusals).
 */
import type { Command } from 'commander';
import type { CampaignView } from '../identity/index.js';
import type { OperatorOperations } from './operations.js';

/** What these commands need from cli.ts's `withServices`. */
export interface AuthenticatorCliServices {
  operations: OperatorOperations;
}

type WithServices = <T>(run: (services: AuthenticatorCliServices) => Promise<T>) => Promise<T>;
type Output = (human: string, json: unknown) => void;

const iso = (d: Date | null) => (d ? d.toISOString() : '—');

/** One line per campaign for people. */
function describeCampaign(c: CampaignView): string {
  const status = c.closedAt ? `closed ${iso(c.closedAt)}` : 'open';
  return `${c.id}  registered before ${iso(c.registeredBefore)}  effective from ${iso(c.effectiveFrom)}  skip until ${iso(c.skipUntil)}  ${status}\n` +
    `  affected ${c.progress.affected}  re-registered ${c.progress.reRegistered}  skipped ${c.progress.skipped}`;
}

/** Adds the commands to `program` (its `account` command must exist). */
export function addAuthenticatorCommands(program: Command, out: Output, withServices: WithServices): void {
  const campaign = program.command('campaign').description('authenticator re-registration campaigns');
  campaign
    .command('create')
    .description('require accounts whose app was registered before a cutoff to register it again at sign-in')
    .requiredOption('--registered-before <time>', 'registration cutoff (ISO 8601)')
    .requiredOption('--effective-from <time>', 'from when sign-in asks (ISO 8601)')
    .option('--skip-until <time>', 'after this, "Skip this step" is no longer offered (ISO 8601)')
    .action((o: { registeredBefore: string; effectiveFrom: string; skipUntil?: string }) =>
      withServices(async ({ operations }) => {
        const created = await operations.campaigns.create(o);
        out(`created campaign\n${describeCampaign(created)}`, created);
      }),
    );
  campaign
    .command('list')
    .description('list campaigns with their progress')
    .action(() =>
      withServices(async ({ operations }) => {
        const campaigns = await operations.campaigns.list();
        out(campaigns.map(describeCampaign).join('\n') || 'no campaigns', campaigns);
      }),
    );
  campaign
    .command('close')
    .description('close a campaign: it asks nobody any more')
    .requiredOption('--id <id>', 'campaign id')
    .action((o: { id: string }) =>
      withServices(async ({ operations }) => {
        const closed = await operations.campaigns.close(o.id);
        out(`closed campaign\n${describeCampaign(closed)}`, closed);
      }),
    );

  const account = program.commands.find((c) => c.name() === 'account') ?? program.command('account');
  account
    .command('reset-factor')
    .description('reset the second factor of an account: remove its authenticator app and its passkeys (it falls back to emailed codes); the person is emailed')
    .requiredOption('--user-id <userId>', 'user ID or email')
    .action((o: { userId: string }) =>
      withServices(async ({ operations }) => {
        const reset = await operations.accounts.resetFactor(o.userId);
        const what = [reset.removed ? 'the authenticator app' : null, reset.passkeysRemoved > 0 ? `${reset.passkeysRemoved} passkey${reset.passkeysRemoved === 1 ? '' : 's'} (${reset.passkeyNames.join(', ')})` : null].filter(Boolean).join(' and ');
        out(what ? `removed ${what} of ${reset.userId}; they now sign in with emailed codes and were told by email` : `${reset.userId} had no authenticator app and no passkey`, reset);
      }),
    );
}
