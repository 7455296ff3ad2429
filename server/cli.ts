/**
 * The operator CLI: `npm run iam -- <command> [options] [--json]`.
 *
 * Operator role: `account grant-operator --user-id U` and `account revoke-operator --user-id U`.
 * Works while the server runs: with the embedded database it connects through the server's local socket
 * (storage `openDatabaseForCli`), otherwise it opens the database itself. It never creates a database unless
 * `--init` is given: pointed at the wrong `DATA_DIR` (resolved against the working directory, like the server's)
 * or `DATABASE_URL`, it refuses and names the folder or database it looked in. Exit codes: 0 success,
 * 1 refused by the domain (validation, not found — including no database —, conflict, quota), 2 usage error,
 * 3 unexpected failure.
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, createLogger, DomainError, loadConfig, systemClock } from '../lib/index.js';
import { FUNCTION_NAMES } from '../policies/index.js';
import { createClientStore, createSigningKeyStore, openDatabaseForCli, type Database } from '../storage/index.js';
import { addAuthenticatorCommands } from './cli-authenticator.js';
import { authenticationOf, type AuthenticationOptions } from './cli-client-authentication.js';
import { createOperations } from './operations.js';
import { readSecretFromStdin } from './read-secret.js';
import { configuredMailer, sealingKeysOf, wireIdentity } from './wiring-identity.js';

type Output = (human: string, json: unknown) => void;

const collect = (value: string, previous: string[]) => [...previous, value];

/** `--init` of the command being run: create the database when there is none. */
let initDatabase = false;

/** Opens storage and services for one CLI command, runs it, closes the database. */
async function withServices<T>(run: (services: Awaited<ReturnType<typeof openServices>>) => Promise<T>): Promise<T> {
  const services = await openServices();
  try {
    return await run(services);
  } finally {
    // Mail the command put in the outbox is sent before the database closes (a running server would send it too).
    await services.identity.mailDelivery.stop();
    services.mailer.close?.();
    await services.database.close();
  }
}

async function openServices() {
  const config = loadConfig(process.env);
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', 'connect-iam-cli');
  const database: Database = await openDatabaseForCli({ url: config.databaseUrl, dataDir: config.dataDir, init: initDatabase });
  const mailer = configuredMailer(config, logger);
  const identity = wireIdentity(config, database, { mailer, clock: systemClock, logger });
  const clients = createClientStore(database, sealingKeysOf(config), { development: config.env === 'development' });
  const keys = createSigningKeyStore(database, sealingKeysOf(config));
  const operations = createOperations({ config, database, identity, clients, keys, clock: systemClock }, ACTOR);
  return { config, database, mailer, identity, operations };
}

/** Who acts, in the audit log, for every CLI command. */
const ACTOR = 'operator-cli';

/** Builds the command tree; `out` prints human text or JSON depending on `--json`. */
export function buildCli(out: Output): Command {
  // exitOverride before adding subcommands: commander copies it to each subcommand when it is created.
  const program = new Command('iam')
    .description('connect-iam operator CLI')
    .option('--json', 'print JSON instead of text')
    .option('--init', 'create the database (in DATA_DIR, or the schema at DATABASE_URL) when there is none; without it the CLI refuses to create one')
    .hook('preAction', (command) => void (initDatabase = command.opts().init === true))
    .showHelpAfterError()
    .exitOverride();

  const organization = program.command('organization').description('organizations and participant IDs');
  organization
    .command('create')
    .description('create an organization')
    .requiredOption('--name <name>', 'organization name')
    .requiredOption('--participant-id <id>', 'participant ID (repeatable)', collect, [])
    .action((o: { name: string; participantId: string[] }) =>
      withServices(async ({ operations }) => {
        const org = await operations.organizations.create({ name: o.name, participantIds: o.participantId });
        out(`created organization ${org.name} (${org.participantIds.join(', ')}) id ${org.id}`, org);
      }),
    );
  organization
    .command('list')
    .description('list organizations')
    .action(() =>
      withServices(async ({ operations }) => {
        const orgs = await operations.organizations.list();
        out(orgs.map((o) => `${o.id}  ${o.name}  ${o.participantIds.join(',')}`).join('\n') || 'no organizations', orgs);
      }),
    );

  const account = program.command('account').description('accounts');
  account
    .command('create')
    .description('create an account; the password is read from standard input')
    .requiredOption('--organization <org>', 'organization id, name or participant ID')
    .requiredOption('--user-id <userId>', 'login user ID')
    .requiredOption('--email <email>', 'email address (unique)')
    .requiredOption('--phone <phone>', 'mobile phone number')
    .option('--name <name>', 'full name (default: the user ID)')
    .addOption(new Option('--function <function>', `function (repeatable): ${FUNCTION_NAMES.join(', ')}`).argParser(collect).default([]))
    .option('--delegated-administrator', 'make the account a delegated administrator of the organization', false)
    .action((o: { organization: string; userId: string; email: string; phone: string; name?: string; function: string[]; delegatedAdministrator: boolean }) =>
      withServices(async ({ operations }) => {
        const password = await readSecretFromStdin('Password (input hidden): ');
        const created = await operations.accounts.create({ organization: o.organization, userId: o.userId, name: o.name ?? o.userId, email: o.email, phone: o.phone, functions: o.function, delegatedAdministrator: o.delegatedAdministrator, password });
        out(`created account ${created.userId} (${created.email}) id ${created.id} in ${created.memberships[0]?.organization.name}`, created);
      }),
    );
  account
    .command('unlock')
    .description('clear the lockout of an account')
    .requiredOption('--user-id <userId>', 'user ID or email')
    .action((o: { userId: string }) =>
      withServices(async ({ operations }) => {
        const unlocked = await operations.accounts.unlock(o.userId);
        out(unlocked.wasLocked ? `unlocked ${unlocked.userId}` : `${unlocked.userId} was not locked`, unlocked);
      }),
    );
  for (const [name, operator] of [['grant-operator', true], ['revoke-operator', false]] as const) {
    account
      .command(name)
      .description(operator ? 'grant the operator role: the admin console opens its operator screens to the account' : 'revoke the operator role')
      .requiredOption('--user-id <userId>', 'user ID or email')
      .action((o: { userId: string }) =>
        withServices(async ({ operations }) => {
          const result = await (operator ? operations.accounts.grantOperator(o.userId) : operations.accounts.revokeOperator(o.userId));
          const state = operator ? 'an operator' : 'not an operator';
          out(result.changed ? `${result.userId} is now ${state}` : `${result.userId} was already ${state}`, result);
        }),
      );
  }

  program
    .command('client')
    .description('downstream applications (OIDC clients)')
    .command('create')
    .description('register a client (first-party unless --third-party; --service for machine to machine); prints its secret once')
    .requiredOption('--client-id <id>', 'client_id')
    .option('--redirect-uri <uri>', 'exact redirect URI (repeatable; at least one, except for --service)', collect, [])
    .option('--post-logout-redirect-uri <uri>', 'post-logout redirect URI (repeatable)', collect, [])
    .option('--initiate-login-uri <uri>', 'where the IdP sends people to start sign-in (OIDC Core §4)')
    .option('--backchannel-logout-uri <uri>', 'where the IdP posts logout tokens (OIDC Back-Channel Logout 1.0), e.g. <origin>/auth/backchannel-logout')
    .option('--name <name>', 'name shown to people')
    .option('--third-party', 'an application not run by the operator: people are asked for consent before it gets their data')
    .option('--service', 'a service client (client_credentials, RFC 6749 §4.4): calls portal APIs as --organization with the --function rights, signs nobody in')
    .option('--organization <ref>', 'with --service: the organization it acts for (id, name or participant ID)')
    .option('--function <name>', `with --service: a function its access tokens carry (repeatable; one of ${FUNCTION_NAMES.join(', ')})`, collect, [])
    .option('--serves <resource>', 'a resource indicator (RFC 8707) this client is the resource server of: it may introspect its access tokens (repeatable)', collect, [])
    .option('--public', 'a public client (single-page or native app): token_endpoint_auth_method=none, PKCE, no secret')
    .option('--allow-refresh', 'with --public: may get refresh tokens, only DPoP-bound ones (RFC 9449)')
    .option('--jwks-file <path>', 'private_key_jwt (RFC 7523): a JSON file with the client\'s public keys {"keys": [...]}')
    .option('--jwks-uri <url>', 'private_key_jwt (RFC 7523): the https URL where the client publishes its public keys')
    .option('--client-secret-post', 'the client sends its secret in the form body (client_secret_post) instead of HTTP Basic')
    .action((o: { clientId: string; redirectUri: string[]; postLogoutRedirectUri: string[]; initiateLoginUri?: string; backchannelLogoutUri?: string; name?: string; thirdParty?: boolean; service?: boolean; organization?: string; function: string[]; serves: string[] } & AuthenticationOptions) =>
      withServices(async ({ operations, identity }) => {
        if (!o.service && (o.organization || o.function.length)) throw new DomainError('validation_failed', '--organization and --function belong to --service.');
        if (o.service && !o.organization) throw new DomainError('validation_failed', '--service needs --organization.');
        const service = o.service ? { organization: o.organization!, functions: o.function } : undefined;
        const authentication = await authenticationOf(o);
        const created = await operations.clients.create({ clientId: o.clientId, clientName: o.name, redirectUris: o.redirectUri, postLogoutRedirectUris: o.postLogoutRedirectUri, initiateLoginUri: o.initiateLoginUri, backchannelLogoutUri: o.backchannelLogoutUri, thirdParty: o.thirdParty, service, servedResources: o.serves, ...authentication });
        const method = created.tokenEndpointAuthMethod;
        const organization = created.service ? await identity.organizations.getOrganization(created.service.organizationId) : null;
        const acting = organization ? `\nacts for ${organization.name} with ${created.service!.functions.join(', ')} (grant_type=client_credentials)` : '';
        const secret = created.clientSecret === undefined ? `token_endpoint_auth_method: ${method} (no client secret)` : `client_secret: ${created.clientSecret}\n(store it now: it is not shown again)`;
        out(`created client ${created.clientId}${acting}\n${secret}`, created);
      }),
    );

  program
    .command('keys')
    .description('token signing keys')
    .command('rotate')
    .description('publish a new signing key and sign with it after SIGNING_KEY_PUBLISH_AHEAD_SECONDS; older keys keep verifying until their tokens expire')
    .option('--now', 'sign with the new key at once (emergency: relying parties caching the old JWKS may fail verification for up to its max-age)')
    .action((options: { now?: boolean }) =>
      withServices(async ({ operations, config }) => {
        const { retainSeconds, publishAheadSeconds, ...rotated } = await operations.keys.rotate({ now: options.now });
        const reload = `Running servers publish it within SIGNING_KEY_RELOAD_SECONDS (${config.signingKeyReloadSeconds} s)`;
        const signing = options.now
          ? `${reload} and sign with it as soon as they do. Relying parties caching the old JWKS may fail to verify its tokens for up to ${config.jwksMaxAgeSeconds} s (the JWKS max-age).`
          : `${reload} and sign with it from ${rotated.signFrom.toISOString()} (in ${publishAheadSeconds} s, SIGNING_KEY_PUBLISH_AHEAD_SECONDS).`;
        out(`new signing key ${rotated.kid}; ${signing} Previous keys verify until ${retainSeconds} s after that.`, rotated);
      }),
    );
  addAuthenticatorCommands(program, out, withServices);
  program
    .command('secrets')
    .description('values sealed under ENCRYPTION_KEY')
    .command('reseal')
    .description('re-encrypt authenticator secrets, client secrets and signing keys under ENCRYPTION_KEY (after a key rotation; PREVIOUS_ENCRYPTION_KEYS must hold the old key)')
    .action(() =>
      withServices(async ({ operations }) => {
        const counts = await operations.secrets.reseal();
        out(
          `re-encrypted ${counts.authenticatorSecrets} authenticator secrets, ${counts.clientSecrets} client secrets and ${counts.signingKeys} signing keys under the current ENCRYPTION_KEY; PREVIOUS_ENCRYPTION_KEYS can now be removed`,
          counts,
        );
      }),
    );
  return program;
}

/** Prints an error the way the operator needs it and returns the exit code. */
function report(error: unknown, json: boolean): number {
  if (error instanceof DomainError || error instanceof ConfigError) {
    const fieldErrors = error instanceof DomainError ? error.fieldErrors : undefined;
    if (json) console.log(JSON.stringify({ error: error instanceof DomainError ? error.code : 'invalid_configuration', message: error.message, fieldErrors }));
    else {
      console.error(`error: ${error.message}`);
      for (const [field, messages] of Object.entries(fieldErrors ?? {})) console.error(`  ${field}: ${messages.join(' ')}`);
    }
    return 1;
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  return 3;
}

async function run(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const out: Output = (human, value) => console.log(json ? JSON.stringify(value, null, 2) : human);
  const program = buildCli(out);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    return report(error, json);
  }
}

process.exitCode = await run(process.argv.slice(2));
