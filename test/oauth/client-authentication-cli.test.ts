/**
 * `iam client create` for public clients (`--public`, `--allow-refresh`; issue 11 §4) and `private_key_jwt`
 * clients (`--jwks-file`, `--jwks-uri`; RFC 7523, issue 11 §5): stored with their method, no secret printed;
 * private keys, non-https key URLs outside development and conflicting options refused with the reason.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_ENCRYPTION_KEY } from '../../lib/index.js';
import { asc } from 'drizzle-orm';
import { createClientStore } from '../../storage/index.js';
import { oidcClients } from '../../storage/schema.js';
import { startCliHarness, type CliHarness } from '../support/cli.js';

const KEY = Buffer.from(DEVELOPMENT_ENCRYPTION_KEY, 'base64');
/** Each `iam` call is a new tsx process opening the embedded database: seconds apiece on a loaded machine. */
const CLI_TEST_TIMEOUT_MS = 180_000;

describe('client create --public / --jwks-file / --jwks-uri (npm run iam)', () => {
  let cli: CliHarness;
  beforeAll(async () => {
    cli = await startCliHarness();
  });
  afterAll(() => cli?.dispose());

  it('registers a public client with refresh allowed, and prints no secret', async () => {
    const created = await cli.iam(['client', 'create', '--client-id', 'spa-app', '--redirect-uri', 'https://spa.example.com/cb', '--public', '--allow-refresh']);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('token_endpoint_auth_method: none (no client secret)');
    expect(created.stdout).not.toContain('client_secret:');
    const refused = await cli.iam(['client', 'create', '--client-id', 'web-app', '--redirect-uri', 'https://web.example.com/cb', '--allow-refresh']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--allow-refresh belongs to --public');
    await cli.withDatabase(async (database) => {
      const clients = createClientStore(database, KEY);
      expect(await clients.find('spa-app')).toMatchObject({ tokenEndpointAuthMethod: 'none', allowRefresh: true });
      expect(await clients.find('web-app')).toBeNull();
    });
  }, CLI_TEST_TIMEOUT_MS);

  it('registers a private_key_jwt client from a JWK Set file or a jwks_uri, refusing private keys', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const file = path.join(tmpdir(), `jwks-${process.pid}.json`);
    await writeFile(file, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] }));
    const created = await cli.iam(['client', 'create', '--client-id', 'pkjwt-app', '--redirect-uri', 'https://pk.example.com/cb', '--jwks-file', file]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('token_endpoint_auth_method: private_key_jwt (no client secret)');
    const byUri = await cli.iam(['client', 'create', '--client-id', 'pkuri-app', '--redirect-uri', 'https://pk.example.com/cb', '--jwks-uri', 'https://pk.example.com/jwks.json']);
    expect(byUri.code).toBe(0);

    await writeFile(file, JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'k2' }] }));
    const privateRefused = await cli.iam(['client', 'create', '--client-id', 'pkpriv-app', '--redirect-uri', 'https://pk.example.com/cb', '--jwks-file', file]);
    expect(privateRefused.code).toBe(1);
    expect(privateRefused.stderr).toContain('is a private key: register public keys only');
    const both = await cli.iam(['client', 'create', '--client-id', 'pkboth-app', '--redirect-uri', 'https://pk.example.com/cb', '--public', '--jwks-uri', 'https://pk.example.com/jwks.json']);
    expect(both.code).toBe(1);
    await cli.withDatabase(async (database) => {
      const clients = createClientStore(database, KEY);
      expect(await clients.find('pkjwt-app')).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ kid: 'k1', kty: 'EC' }] }, jwksUri: null });
      expect(await clients.find('pkuri-app')).toMatchObject({ tokenEndpointAuthMethod: 'private_key_jwt', jwks: null, jwksUri: 'https://pk.example.com/jwks.json' });
      expect(await clients.find('pkpriv-app')).toBeNull();
      // Outside development a jwks_uri must be https.
      const problem = await clients.create({ clientId: 'pkhttp-app', redirectUris: ['https://pk.example.com/cb'], postLogoutRedirectUris: [], firstParty: true, tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://pk.example.com/jwks.json' }).catch((e: { fieldErrors?: unknown }) => e.fieldErrors);
      expect(problem).toEqual({ jwksUri: ['"http://pk.example.com/jwks.json" must use https.'] });
    });
  }, CLI_TEST_TIMEOUT_MS);

  it('stores no client secret for public and private_key_jwt clients, a sealed one for the secret methods', async () => {
    await cli.withDatabase(async (database) => {
      const clients = createClientStore(database, KEY);
      await clients.create({ clientId: 'basic-app', redirectUris: ['https://basic.example.com/cb'], postLogoutRedirectUris: [], firstParty: true });
      const rows = await database.db.select({ clientId: oidcClients.clientId, secret: oidcClients.clientSecret }).from(oidcClients).orderBy(asc(oidcClients.clientId));
      const secrets = Object.fromEntries(rows.map((r) => [r.clientId, r.secret === null ? null : r.secret.slice(0, 3)]));
      expect(secrets).toMatchObject({ 'spa-app': null, 'pkjwt-app': null, 'pkuri-app': null, 'basic-app': 'v2.' });
      expect(await clients.find('spa-app')).toMatchObject({ clientSecret: null });
      expect((await clients.find('basic-app'))?.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // A secret cannot be given to a client that does not use one.
      const problem = await clients.create({ clientId: 'spa-secret', clientSecret: 'x'.repeat(40), redirectUris: ['https://spa.example.com/cb'], postLogoutRedirectUris: [], firstParty: true, tokenEndpointAuthMethod: 'none' }).catch((e: { fieldErrors?: unknown }) => e.fieldErrors);
      expect(problem).toEqual({ clientSecret: ['A public or private_key_jwt client has no client secret.'] });
    });
  });
});
