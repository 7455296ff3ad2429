/** `iam client create --service` (issue 11 §2): a service client for an organization and functions, audited; refusals explained. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliHarness, type CliHarness } from '../support/cli.js';

describe('client create --service (npm run iam)', () => {
  let cli: CliHarness;
  beforeAll(async () => {
    cli = await startCliHarness();
    expect((await cli.iam(['organization', 'create', '--name', 'Service Brokers Ltd', '--participant-id', 'B07830'])).code).toBe(0);
  });
  afterAll(() => cli?.dispose());

  it('registers a service client for the organization and functions, prints its secret once and audits client.created', async () => {
    const created = await cli.iam(['client', 'create', '--service', '--client-id', 'b07830-backoffice', '--organization', 'B07830', '--function', 'EU_ECPSFTP', '--function', 'EU_ECPReportDownload']);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('acts for Service Brokers Ltd with EU_ECPSFTP, EU_ECPReportDownload');
    expect(created.stdout).toMatch(/client_secret: [A-Za-z0-9_-]{43}/);
    await cli.inProcess(async (identity) => {
      const [event] = await identity.stores.audit.list({ type: 'client.created' });
      const organization = await identity.organizations.getOrganization('B07830');
      expect(event).toMatchObject({ actor: 'operator-cli', organizationId: organization.id, data: { clientId: 'b07830-backoffice', service: true, organization: organization.id, functions: ['EU_ECPSFTP', 'EU_ECPReportDownload'] } });
    });
  });

  it('refuses an unknown function, an unknown organization, a service without an organization and redirect URIs on a service client', async () => {
    const badFunction = await cli.iam(['client', 'create', '--service', '--client-id', 'svc-x', '--organization', 'B07830', '--function', 'EU_Bogus']);
    expect(badFunction.code).toBe(1);
    expect(badFunction.stderr).toContain('Unknown function EU_Bogus');
    const badOrganization = await cli.iam(['client', 'create', '--service', '--client-id', 'svc-y', '--organization', 'NOPE', '--function', 'EU_ECPSFTP']);
    expect(badOrganization.code).toBe(1);
    expect(badOrganization.stderr).toContain('No organization matches "NOPE"');
    const noOrganization = await cli.iam(['client', 'create', '--service', '--client-id', 'svc-z', '--function', 'EU_ECPSFTP']);
    expect(noOrganization.code).toBe(1);
    const withRedirect = await cli.iam(['client', 'create', '--service', '--client-id', 'svc-w', '--organization', 'B07830', '--function', 'EU_ECPSFTP', '--redirect-uri', 'https://x.example.com/cb']);
    expect(withRedirect.code).toBe(1);
    expect(withRedirect.stderr).toMatch(/signs nobody in/);
  });
});
