/**
 * Benchmark of the sign-in password step: lockout reservation in PostgreSQL + argon2id verification
 * (m=19 MiB, t=2, p=1), through the real identity service on the embedded database.
 * Run: `npx tsx bench/password-step.ts [requests=200] [concurrency=4]`. Prints throughput, latency and memory.
 */
import { createEventBus, createIdentity } from '../identity/index.js';
import { createLogger, createMailer, systemClock } from '../lib/index.js';
import { createIdentityStores, openDatabase } from '../storage/index.js';

const requests = Number(process.argv[2] ?? 200);
const concurrency = Number(process.argv[3] ?? 4);
const database = await openDatabase({ memory: true });
const logger = createLogger('silent');
const identity = createIdentity({
  stores: createIdentityStores(database),
  events: createEventBus(),
  mailer: createMailer({ outboxDir: '/tmp/connect-iam-bench-outbox', from: 'bench@localhost', logger }),
  clock: systemClock,
  lockout: { maxFailures: 5, windowSeconds: 1800, maxConsecutiveFailures: 20 },
  otp: { ttlSeconds: 600, resendIntervalSeconds: 30 },
  displayName: 'bench',
});
const org = await identity.organizations.createOrganization({ name: 'Bench Ltd', participantIds: ['B00001'] }, 'bench');
const password = 'benchmark passphrase 2026';
await identity.accounts.createAccount({ organization: org.id, userId: 'bench.user', name: 'Bench', email: 'bench@example.com', phone: '+852 5555 0000', password }, 'bench');

const latencies: number[] = [];
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next++ < requests) {
      const t0 = performance.now();
      const outcome = await identity.passwordSignIn.verifyPassword('bench.user', password);
      if (outcome.outcome !== 'ok') throw new Error(`unexpected outcome ${outcome.outcome}`);
      latencies.push(performance.now() - t0);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
console.log(`password step: ${requests} sign-ins, concurrency ${concurrency}: ${(requests / seconds).toFixed(1)}/s, p50 ${pct(50)} ms, p95 ${pct(95)} ms, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
await database.close();
