/**
 * The rows of issue 10's table, each with its variants: connect-iam on PGlite and on PostgreSQL, and the
 * baseline of the row (bare oidc-provider, a plain Express route, argon2 alone), all measured the same way.
 */
import { verify } from '@node-rs/argon2';
import type { SmtpCapture } from '../test/support/smtp-capture.js';
import { ACCOUNTS, type BenchAccount, type DatabaseKind } from './idp.js';
import { postPassword, preparePassword, refresh, signIn, type PreparedPassword, type RelyingParty } from './flows.js';
import { expectStatus, type BatchLength } from './load.js';
import type { WireCounter } from './wire-counter.js';

/** Rows, in the order of the table. */
export const ROW_IDS = ['argon2', 'signin', 'password', 'refresh', 'userinfo', 'jwks', 'discovery', 'portal'] as const;
export type RowId = (typeof ROW_IDS)[number];

/** The resource indicator of the portal API (idp/configuration.ts `PORTAL_API`). */
export const PORTAL_API = 'urn:connect-iam:portal-api';

/** A process whose CPU a batch is charged to. */
export interface Subject {
  /** Its pid, for RSS; undefined for the bench's own process. */
  pid?: number;
  /** CPU time so far, ms (utime + stime of all its threads and descendants). */
  cpuMs(): number;
  /** The wire counter in front of its PostgreSQL database, when it has one. */
  wire?: WireCounter;
  /** The end of its output, to explain failed operations. */
  output?(): string;
}

/** One batch, ready to run. */
export interface PreparedBatch {
  length: BatchLength;
  op(worker: number, n: number): Promise<void>;
  /** Waits for work the operations set off that outlives their answers (emails), so that its CPU counts. */
  settle?(): Promise<void>;
  /** HTTP requests per operation, when the flow counts them. */
  requestsPerOp?(): number;
}

/** One variant of a row: a subject and how to prepare its batches. */
export interface Variant {
  id: string;
  label: string;
  subject: Subject;
  prepare(length: BatchLength): Promise<PreparedBatch>;
}

/** A row of the table. */
export interface Row {
  id: RowId;
  title: string;
  variants: Variant[];
}

/** connect-iam on one database, as the scenarios drive it. */
export interface IdpSubject extends Subject {
  kind: DatabaseKind;
  pid: number;
  rp: RelyingParty;
  accounts: BenchAccount[];
  /** One refresh token per worker (from setup sign-ins with `offline_access`, and the portal API resource). */
  refreshTokens: string[];
}

/** The bare oidc-provider baseline. */
export interface BaselineSubject extends Subject {
  pid: number;
  rp: RelyingParty;
  refreshTokens: string[];
}

/** Everything the rows are built from. */
export interface World {
  smtp: SmtpCapture;
  idps: IdpSubject[];
  baseline?: BaselineSubject;
  portal?: { subject: Subject & { pid: number }; url: string; idp: IdpSubject };
  argon2: { hash: string; password: string; subject: Subject };
  /** Password POSTs per batch (they need a sign-in page each, prepared before the batch). */
  passwordCount: number;
}

/** A variant whose batches run for the given length and repeat `op`. */
function simple(id: string, label: string, subject: Subject, makeOp: () => Promise<(worker: number) => Promise<void>>): Variant {
  return { id, label, subject, prepare: async (length) => ({ length, op: await makeOp() }) };
}

/**
 * A refresh-token grant on refresh token `index` of `target`. Refresh tokens rotate (connect-iam spends each on
 * use and treats a second use as theft: docs/tokens-and-claims.md), so the new one replaces it.
 * @returns the new access token.
 */
async function refreshKeeping(target: { rp: RelyingParty; refreshTokens: string[] }, index: number, resource?: string): Promise<string> {
  const i = index % target.refreshTokens.length;
  const answer = await refresh(target.rp, target.refreshTokens[i]!, resource);
  if (!answer.access_token) throw new Error('no access_token');
  if (answer.refresh_token) target.refreshTokens[i] = answer.refresh_token;
  return answer.access_token;
}

/** The refresh-token grant, each worker on its own refresh token. */
function refreshOp(target: { rp: RelyingParty; refreshTokens: string[] }) {
  return async () => async (worker: number) => void (await refreshKeeping(target, worker));
}

/** A userinfo request (OIDC Core §5.3) with an access token fresh for this batch, one per worker. */
function userinfoOp(target: { rp: RelyingParty; refreshTokens: string[] }) {
  return async () => {
    const tokens = await Promise.all(target.refreshTokens.map((_, i) => refreshKeeping(target, i)));
    return async (worker: number) => void (await expectStatus(target.rp.userinfoEndpoint, { headers: { authorization: `Bearer ${tokens[worker % tokens.length]}`, accept: 'application/json' } }));
  };
}

const get = (url: string) => async () => async () => void (await expectStatus(url, { headers: { accept: 'application/json' } }));

function signInVariant(world: World, idp: IdpSubject): Variant {
  let requests = 0;
  let ops = 0;
  return {
    id: idp.kind,
    label: `connect-iam, ${idp.kind}`,
    subject: idp,
    async prepare(length) {
      requests = 0;
      ops = 0;
      return {
        length,
        async op(worker) {
          const done = await signIn(idp.rp, idp.accounts[worker % ACCOUNTS]!, world.smtp);
          requests += done.requests;
          ops++;
        },
        requestsPerOp: () => requests / ops,
      };
    },
  };
}

function passwordVariant(world: World, idp: IdpSubject): Variant {
  return {
    id: idp.kind,
    label: `connect-iam, ${idp.kind}`,
    subject: idp,
    async prepare() {
      const queue: PreparedPassword[] = [];
      for (let i = 0; i < world.passwordCount; i += ACCOUNTS) {
        queue.push(...(await Promise.all(idp.accounts.slice(0, Math.min(ACCOUNTS, world.passwordCount - i)).map((a) => preparePassword(idp.rp, a)))));
      }
      const addresses = new Set(idp.accounts.map((a) => a.email));
      const since = world.smtp.messages.length;
      let posted = 0;
      return {
        length: { count: queue.length },
        async op() {
          await postPassword(queue.shift()!);
          posted++;
        },
        // Each successful POST emails a code: wait until all of them are delivered.
        async settle() {
          const deadline = Date.now() + 60_000;
          while (world.smtp.messages.slice(since).filter((m) => m.to.some((t) => addresses.has(t))).length < posted) {
            if (Date.now() > deadline) throw new Error(`only some of ${posted} codes were emailed within 60 s`);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        },
      };
    },
  };
}

/** The rows in `only` (all when empty), with the variants the world has. */
export function buildRows(world: World, only: readonly RowId[]): Row[] {
  const { idps, baseline, portal, argon2 } = world;
  const argon2Variant = simple('argon2', 'argon2id verify alone (bench process)', argon2.subject, async () => async () => {
    if (!(await verify(argon2.hash, argon2.password))) throw new Error('argon2 verify failed');
  });
  const rows: Row[] = [
    { id: 'argon2', title: 'argon2id verify (m=19 MiB, t=2, p=1)', variants: [argon2Variant] },
    { id: 'signin', title: 'full sign-in (7 requests: authorize → password → emailed code → token)', variants: idps.map((idp) => signInVariant(world, idp)) },
    { id: 'password', title: 'password POST', variants: idps.map((idp) => passwordVariant(world, idp)) },
    {
      id: 'refresh',
      title: 'refresh-token grant',
      variants: [...idps.map((idp) => simple(idp.kind, `connect-iam, ${idp.kind}`, idp, refreshOp(idp))), ...(baseline ? [simple('bare', 'bare oidc-provider, in memory', baseline, refreshOp(baseline))] : [])],
    },
    {
      id: 'userinfo',
      title: 'userinfo',
      variants: [...idps.map((idp) => simple(idp.kind, `connect-iam, ${idp.kind}`, idp, userinfoOp(idp))), ...(baseline ? [simple('bare', 'bare oidc-provider, in memory', baseline, userinfoOp(baseline))] : [])],
    },
    {
      id: 'jwks',
      title: 'JWKS',
      variants: [...idps.map((idp) => simple(idp.kind, `connect-iam, ${idp.kind}`, idp, get(idp.rp.jwksUri))), ...(baseline ? [simple('bare', 'bare oidc-provider, in memory', baseline, get(baseline.rp.jwksUri))] : [])],
    },
    {
      id: 'discovery',
      title: 'discovery',
      variants: [...idps.map((idp) => simple(idp.kind, `connect-iam, ${idp.kind}`, idp, get(idp.rp.discoveryUrl))), ...(baseline ? [simple('bare', 'bare oidc-provider, in memory', baseline, get(baseline.rp.discoveryUrl))] : [])],
    },
    {
      id: 'portal',
      title: 'portal API with bearer JWT',
      variants: portal
        ? [
            simple('api', 'verifyBearer route', portal.subject, async () => {
              const jwt = await refreshKeeping(portal.idp, 0, PORTAL_API);
              return async () => void (await expectStatus(`${portal.url}/api`, { headers: { authorization: `Bearer ${jwt}`, accept: 'application/json' } }));
            }),
            simple('plain', 'plain Express route', portal.subject, get(`${portal.url}/plain`)),
          ]
        : [],
    },
  ];
  // A row's baseline runs with it: sign-in and password POST are compared with argon2 alone.
  const wanted = new Set<RowId>(only.length ? only : ROW_IDS);
  if (wanted.has('signin') || wanted.has('password')) wanted.add('argon2');
  return rows.filter((row) => wanted.has(row.id) && row.variants.length > 0);
}
