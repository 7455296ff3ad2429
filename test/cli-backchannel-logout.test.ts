/**
 * `npm run iam -- client create … --backchannel-logout-uri U` (OIDC Back-Channel Logout 1.0 §2.2): the URI is
 * validated like a redirect URI and stored with the client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientStore } from '../storage/index.js';
import { startCliHarness, type CliHarness } from './support/cli.js';

describe('client create --backchannel-logout-uri / --third-party', () => {
  let cli: CliHarness;

  beforeAll(async () => {
    cli = await startCliHarness();
  });
  afterAll(() => cli?.dispose());

  it('registers the back-channel logout URI and refuses one that is not https (or http on loopback)', async () => {
    const created = await cli.iam(['client', 'create', '--client-id', 'bcl-portal', '--redirect-uri', 'https://portal.example.com/auth/callback', '--backchannel-logout-uri', 'https://portal.example.com/auth/backchannel-logout', '--json']);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ clientId: 'bcl-portal', backchannelLogoutUri: 'https://portal.example.com/auth/backchannel-logout' });

    const refused = await cli.iam(['client', 'create', '--client-id', 'bcl-bad', '--redirect-uri', 'https://portal.example.com/auth/callback', '--backchannel-logout-uri', 'http://portal.example.com/auth/backchannel-logout', '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ error: 'validation_failed', fieldErrors: { backchannelLogoutUri: [expect.stringContaining('must use https')] } });

    const stored = await cli.withDatabase((database) => createClientStore(database, Buffer.alloc(32)).list());
    expect(stored.map((c) => [c.clientId, c.backchannelLogoutUri])).toEqual([['bcl-portal', 'https://portal.example.com/auth/backchannel-logout']]);
  });

  it('registers a third-party client (people are asked for consent) with --third-party, first-party otherwise', async () => {
    expect((await cli.iam(['client', 'create', '--client-id', 'partner-app', '--redirect-uri', 'https://partner.example.com/cb', '--third-party'])).code).toBe(0);
    const stored = await cli.withDatabase((database) => createClientStore(database, Buffer.alloc(32)).list());
    expect(Object.fromEntries(stored.map((c) => [c.clientId, c.firstParty]))).toEqual({ 'bcl-portal': true, 'partner-app': false });
  });
});
