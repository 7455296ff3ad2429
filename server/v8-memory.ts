/**
 * Imported first by server/main.ts (the standalone server: `npm start`, `npm run start:dist`), before any other
 * module is loaded: sets V8's `--heap-growing-percent=100` for the process, so that the garbage collector
 * starts a full collection once the old generation has doubled past what survived the last one, instead
 * of growing by up to 300 %.
 *
 * Why: V8 picks its growth factor from the heap limit, which Node derives from the machine's memory (4 GiB on
 * a 24 GB host), and with so large a limit lets the old generation grow to 4× its live size between full
 * collections. Sign-ins promote short-lived objects (a request waits ~100 ms on argon2), so under sign-in
 * load the heap filled with garbage: about 45 MiB live but heapUsed 135 MiB, RSS 250–350 MiB at concurrency 4.
 * 1.3 is V8's own "conservative" factor (what it uses when memory is short). Measured with the compiled server
 * on a PostgreSQL server (Node 20, 2 cores shared with other work), three servers side by side, 8 interleaved
 * rounds of 6 s of sign-ins at concurrency 4: peak RSS 208 → 192 MiB at the same throughput, garbage-collection
 * pauses 3.2 → 2.9 ms per sign-in (9 → 14 full collections, fewer scavenges), CPU per sign-in the same within
 * the machine's noise; the bound holds at any throughput, where the default factor's peak grows with it (349
 * MiB on a quiet machine). `npm run bench -- --only signin --db postgres --rounds 3`, with this and the lazy
 * imports of the same day: idle 145 → 131 MiB, peak under sign-in load 202 → 183 MiB, after the run 166 → 148.
 * The 5-s idle figure still holds the start-up young generation (32 MiB) and garbage, which V8's memory
 * reducer releases after ~20 s of quiet: 25 s after the start RSS is 113 → 99 MiB (docs/operations.md "Memory").
 *
 * 100 rather than 30: the tighter factor cost the small JSON requests CPU (more full collections of the garbage
 * every request leaves): on a PostgreSQL server, 3 rounds each on the same quiet machine, CPU-ms per request
 * with 30 / 100 / no flag: JWKS 0.148 / 0.099 / 0.120, discovery 0.197 / 0.127 / 0.159 (the bare oidc-provider
 * baseline 0.064–0.074 and 0.073–0.103 in those runs), while the peak under sign-in load stays bounded: 191 MiB
 * with 30 (full bench), 209 with 100, about 350 without (issue 10's bound: 250 MiB).
 *
 * `--optimize-for-size` bounds memory further (idle RSS 133 → 97 MiB, peak 166 MiB: it also shrinks the young
 * generation) but doubled the scavenges and quadrupled the full collections: 7.9 ms of pauses per sign-in and
 * about 20 % more CPU per sign-in. It is not set.
 *
 * V8 reads this flag at every collection, so setting it at run time (as storage/embedded-database.ts sets
 * `--liftoff-only`) takes effect; flags that size the heap (`--max-semi-space-size`, `--max-old-space-size`)
 * are read only when the isolate starts and would need Node's command line. V8 flags are per process: an
 * embedding host (server/embed.ts) decides for its own process and does not get this.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--heap-growing-percent=100');
