/**
 * The packages as a host gets them (issue 12 §4): `npm run build`, `npm pack` of `connect-iam` and
 * `@connect-iam/portal-adapters`, `npm install --omit=dev` of both tarballs from the registry (through the npm
 * cache) into a temporary folder holding examples/embedded-host, provisioning with the installed `connect-iam`
 * command, then the host on one port: a person signs in to its `/app` through the IdP it mounts at `/idp`
 * (password, then the code emailed to a real SMTP server), and openid-client signs in there as a relying party.
 *
 * It breaks when a runtime dependency is missing from `dependencies` (the install has no devDependencies, and
 * every bare import of the shipped JavaScript must be a declared dependency even when another package happens to
 * bring it) or a file from `files` (every relative import of the shipped files must resolve inside the package,
 * and the flows render the views and run the migrations the tarball carries).
 *
 * Builds in a copy of the working tree (the two vitest projects run this at once). Logs the tarball sizes and
 * the install time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { separateProcessDatabase, usingPostgresServer } from '../support/database.js';
import { freePort } from '../support/ports.js';
import { redeem, signInToCallback, startAuthorization, submitPassword } from '../support/sign-in.js';
import { otpFrom, startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js';
import { UserAgent } from '../support/user-agent.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** What one child process printed, its exit code and how long it took (ms). */
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A clean environment: nothing of vitest's or of this checkout (no NODE_OPTIONS, DATABASE_URL, tsx loader). */
const baseEnv = (): Record<string, string> => ({ PATH: process.env.PATH!, HOME: process.env.HOME!, TMPDIR: tmpdir(), LANG: 'C.UTF-8' });

/** Runs `command`; @throws with its output when it exits non-zero. */
function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...baseEnv(), ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdin.end(options.input ?? '');
    child.once('error', reject);
    child.once('close', (code) => {
      const result = { code, stdout, stderr, ms: Date.now() - started };
      if (code === 0) resolve(result);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
    });
  });
}

/** A copy of the working tree (tracked and untracked files, without ignored ones) with node_modules linked. */
async function copyWorkingTree(into: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root });
  for (const file of stdout.split('\0').filter(Boolean)) {
    const from = path.join(root, file);
    if (!existsSync(from) || !statSync(from).isFile()) continue; // deleted in the working tree
    mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    cpSync(from, path.join(into, file));
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(into, 'node_modules'));
}

/** `npm pack --json` output, one entry. */
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string }[];
}

/** Every file under `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Module specifiers of an ES module or declaration file (static and dynamic imports, re-exports). */
function specifiersOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [
    ...text.matchAll(/(?:^|[\s;}])(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ];
  return found.map((m) => m[1]!);
}

/**
 * Packages the shipped code imports only where it runs from the TypeScript sources, never from dist/ (so not
 * dependencies), each with where and why.
 */
const SOURCE_ONLY_IMPORTS: Record<string, string> = {
  esbuild: 'storage/embedded-database.ts bundles the embedded worker with it only when running from .ts (tsx, vitest)',
};

/** The package name of a bare specifier (`@scope/name/sub` → `@scope/name`). */
const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/** Imports of the installed package at `dir` that its manifest does not cover, and relative imports that name no shipped file. */
function undeclaredAndMissing(dir: string): { undeclared: string[]; missing: string[]; checked: number } {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
  const declared = new Set([manifest.name, ...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}), ...Object.keys(SOURCE_ONLY_IMPORTS)]);
  const builtins = new Set(builtinModules);
  const undeclared = new Set<string>();
  const missing = new Set<string>();
  // Scripts under public/ run in the browser: their imports are URLs served by routes (e.g. /assets/webauthn/).
  const files = filesUnder(dir).filter((f) => f.endsWith('.js') && !f.split(path.sep).includes('public'));
  for (const file of files) {
    for (const specifier of specifiersOf(file)) {
      if (specifier.startsWith('.')) {
        if (!existsSync(path.resolve(path.dirname(file), specifier))) missing.add(`${path.relative(dir, file)} → ${specifier}`);
      } else if (!specifier.startsWith('node:') && !builtins.has(packageOf(specifier)) && !declared.has(packageOf(specifier))) {
        undeclared.add(`${packageOf(specifier)} (${path.relative(dir, file)})`);
      }
    }
  }
  return { undeclared: [...undeclared], missing: [...missing], checked: files.length };
}

// Runs in the pglite project only: what is packed and installed does not depend on the database, the embedded
// database reaches PGlite through the same pg code path as a server, and one pack + install takes minutes.
describe.skipIf(usingPostgresServer)('connect-iam and @connect-iam/portal-adapters, packed and installed with --omit=dev, embedded by examples/embedded-host', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'connect-iam-pack-'));
  const repo = path.join(work, 'repo');
  const tarballs = path.join(work, 'tarballs');
  const host = path.join(work, 'host');
  let packed: { iam: Packed; adapters: Packed };
  let install: Run;
  let smtp: SmtpCapture;
  let database: Awaited<ReturnType<typeof separateProcessDatabase>>;
  let server: ChildProcess | undefined;
  let serverOutput = '';
  let base = '';
  let env: Record<string, string> = {};
  const person = { login: 'jdoe', name: 'Jane Doe', email: 'jane.doe@example.com', password: 'a long passphrase for the packed host' };
  let rpClient = { id: 'pack-test-rp', secret: '', redirectUri: '' };

  /** The installed `connect-iam` command, with the host's settings. */
  const connectIam = (args: string[], input?: string) => run(path.join(host, 'node_modules/.bin/connect-iam'), args, { cwd: host, env, input });

  beforeAll(async () => {
    mkdirSync(repo);
    mkdirSync(tarballs);
    mkdirSync(host);
    await copyWorkingTree(repo);
    await run('npm', ['run', 'build'], { cwd: repo });
    // prepack would build again: the build above is the one packed.
    const packRoot = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tarballs], { cwd: repo });
    const packAdapters = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tarballs, '-w', '@connect-iam/portal-adapters'], { cwd: repo });
    packed = { iam: (JSON.parse(packRoot.stdout) as Packed[])[0]!, adapters: (JSON.parse(packAdapters.stdout) as Packed[])[0]! };

    // The host example, depending on the tarballs instead of registry versions.
    for (const file of ['package.json', 'server.js']) cpSync(path.join(root, 'examples/embedded-host', file), path.join(host, file));
    const manifest = JSON.parse(readFileSync(path.join(host, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    manifest.dependencies['connect-iam'] = `file:${path.join(tarballs, packed.iam.filename)}`;
    manifest.dependencies['@connect-iam/portal-adapters'] = `file:${path.join(tarballs, packed.adapters.filename)}`;
    writeFileSync(path.join(host, 'package.json'), JSON.stringify(manifest, null, 2));
    install = await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: host });
    console.log(
      `packed: ${packed.iam.filename} ${(packed.iam.size / 1024).toFixed(0)} kB (${(packed.iam.unpackedSize / 1024).toFixed(0)} kB unpacked, ${packed.iam.entryCount} files); ` +
        `${packed.adapters.filename} ${(packed.adapters.size / 1024).toFixed(0)} kB (${(packed.adapters.unpackedSize / 1024).toFixed(0)} kB unpacked, ${packed.adapters.entryCount} files); ` +
        `npm install --omit=dev of both with the host: ${(install.ms / 1000).toFixed(1)} s; Node ${process.version}`,
    );

    // Provisioning through the installed command, before the host holds the database.
    smtp = await startSmtpCapture();
    database = await separateProcessDatabase();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    rpClient.redirectUri = `${base}/rp-callback`;
    env = { ...database.env, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: base, SMTP_URL: smtp.url, LOG_LEVEL: 'warn' };
    await connectIam(['--init', 'organization', 'create', '--name', 'Packed Brokers Ltd', '--participant-id', 'B04321']);
    await connectIam(['account', 'create', '--organization', 'B04321', '--user-id', person.login, '--name', person.name, '--email', person.email, '--phone', '+852 5555 4321', '--function', 'EU_UserMaintenance'], `${person.password}\n`);
    const created = await connectIam(['client', 'create', '--client-id', rpClient.id, '--redirect-uri', rpClient.redirectUri, '--json']);
    rpClient = { ...rpClient, secret: (JSON.parse(created.stdout) as { clientSecret: string }).clientSecret };

    server = spawn(process.execPath, ['server.js'], { cwd: host, env: { ...baseEnv(), ...env } });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the host did not start within 240 s:\n${serverOutput}`)), 240_000);
      const watch = (d: Buffer) => {
        serverOutput += d;
        if (serverOutput.includes('embedded host listening')) {
          clearTimeout(timer);
          resolve();
        }
      };
      server!.stdout!.on('data', watch);
      server!.stderr!.on('data', watch);
      server!.once('exit', (code) => reject(new Error(`the host exited ${code} before listening:\n${serverOutput}`)));
    });
  }, 900_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await smtp?.close();
    await database?.dispose();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('packs compiled JavaScript with declarations, views and migrations, without sources, maps or tests', () => {
    const iamFiles = packed.iam.files.map((f) => f.path);
    for (const file of ['package.json', 'README.md', 'dist/server/embed.js', 'dist/server/embed.d.ts', 'dist/server/bin.js', 'dist/server/cli.js']) expect(iamFiles).toContain(file);
    expect(iamFiles.some((f) => /^dist\/idp\/views\/.+\.ejs$/.test(f))).toBe(true);
    expect(iamFiles.some((f) => /^dist\/admin-console\/views\/.+\.ejs$/.test(f))).toBe(true);
    expect(iamFiles.some((f) => /^dist\/storage\/migrations\/.+\.sql$/.test(f))).toBe(true);
    const adapterFiles = packed.adapters.files.map((f) => f.path);
    for (const file of ['package.json', 'README.md', 'dist/portal-adapters/index.js', 'dist/portal-adapters/index.d.ts', 'dist/policies/functions.js']) expect(adapterFiles).toContain(file);
    for (const files of [iamFiles, adapterFiles]) {
      expect(files.filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.endsWith('.map') || f.startsWith('test/') || f.startsWith('dist/test/') || f.startsWith('dist/bench/'))).toEqual([]);
    }
    expect(adapterFiles.filter((f) => !/^(package\.json|README\.md|dist\/(portal-adapters|policies)\/)/.test(f))).toEqual([]);
  });

  it('declares every package its shipped code imports, and ships every file its code imports', () => {
    for (const name of ['connect-iam', '@connect-iam/portal-adapters']) {
      const { undeclared, missing, checked } = undeclaredAndMissing(path.join(host, 'node_modules', name));
      expect(checked, name).toBeGreaterThan(10);
      expect(undeclared, name).toEqual([]);
      expect(missing, name).toEqual([]);
    }
    const adapters = JSON.parse(readFileSync(path.join(host, 'node_modules/@connect-iam/portal-adapters/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(adapters.dependencies).sort()).toEqual(['fast-jwt', 'jose', 'openid-client']);
  });

  it('installs without devDependencies: no tsx, and the manifests state exports, engines and the bin', () => {
    expect(existsSync(path.join(host, 'node_modules/tsx'))).toBe(false);
    expect(existsSync(path.join(host, 'node_modules/typescript'))).toBe(false);
    for (const name of ['connect-iam', '@connect-iam/portal-adapters']) {
      const manifest = JSON.parse(readFileSync(path.join(host, 'node_modules', name, 'package.json'), 'utf8')) as { engines: { node: string }; exports: Record<string, unknown>; dependencies: Record<string, string>; type: string };
      expect(manifest.engines.node, name).toBe('>=20.19');
      expect(manifest.type).toBe('module');
      expect(Object.keys(manifest.exports)).toContain('.');
      expect(Object.keys(manifest.dependencies)).not.toContain('tsx');
    }
    expect(readFileSync(path.join(host, 'node_modules/connect-iam/dist/server/bin.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('signs a person in to the host\'s /app through the IdP it mounts at /idp (password, then the emailed code)', async () => {
    const ua = new UserAgent();
    const signIn = await ua.follow(`${base}/app`);
    expect(signIn.status, serverOutput).toBe(200);
    expect(new URL(signIn.url).pathname).toMatch(/^\/idp\//);
    const since = smtp.messages.length;
    const codePage = await submitPassword(ua, signIn, person.login, person.password);
    expect(codePage.status, serverOutput.slice(-4000)).toBe(200);
    const mail = await smtp.waitFor(person.email, { since, timeoutMs: 30_000 });
    const app = await ua.submit(codePage, { 'One-time code': otpFrom(mail) });
    expect(app.url).toBe(`${base}/app`);
    expect(app.status, serverOutput.slice(-4000)).toBe(200);
    const session = JSON.parse(app.html) as { name: string; email: string; organization: { name: string; participant_ids?: string[] }; functions: string[] };
    expect(session).toMatchObject({ name: person.name, email: person.email, functions: ['EU_UserMaintenance'] });
    expect(session.organization.name).toBe('Packed Brokers Ltd');
    // requireFunction against the function catalogue compiled into @connect-iam/portal-adapters.
    expect((await ua.request(`${base}/app/user-maintenance`)).status).toBe(200);
    expect((await ua.request(`${base}/app/reports`)).status).toBe(403);
    // Signed out, the protected route sends the person to sign in.
    const signedOut = await new UserAgent().request(`${base}/app`);
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toMatch(/^\/auth\/login\?returnTo=%2Fapp/);
  });

  it('lets openid-client sign in at the mounted issuer and redeem the code (ID token from <host>/idp)', async () => {
    const rp = await client.discovery(new URL(`${base}/idp`), rpClient.id, rpClient.secret, undefined, { execute: [client.allowInsecureRequests] });
    expect(rp.serverMetadata().issuer).toBe(`${base}/idp`);
    const auth = await startAuthorization(rp, rpClient.redirectUri);
    const callback = await signInToCallback({ ua: new UserAgent(), auth, login: person.login, password: person.password, email: person.email, smtp }).catch((error: Error) => {
      throw new Error(`${error.message}\n${serverOutput.slice(-4000)}`);
    });
    const tokens = await redeem(rp, callback, auth);
    expect(tokens.claims()).toMatchObject({ iss: `${base}/idp`, aud: rpClient.id, name: person.name });
    const userinfo = await client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
    expect(userinfo.email).toBe(person.email);
  });
});
