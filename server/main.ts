/**
 * `npm start`: the IdP and, outside production, the demo data and demo portals.
 *
 * SIGTERM or SIGINT stops it gracefully (docs/operations.md): `/readyz` answers 503 at once (for
 * SHUTDOWN_DELAY_SECONDS, while requests are still accepted), then every listener closes and requests in
 * flight get up to SHUTDOWN_GRACE_SECONDS to finish, then the database closes. Exit code 0 after a clean
 * drain; 1 when requests were cut off (the log line `drained` says how many), when a second signal cut the
 * drain short, or when start-up failed.
 */
// First: V8's memory setting applies before the other modules fill the heap (server/v8-memory.ts).
import './v8-memory.js';
import { ConfigError, loadConfig } from '../lib/index.js';
import { startAdminConsole } from './admin-console.js';
import { startConnectIam } from './app.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const running = await startConnectIam({ config });
  const { logger } = running;
  let stopping = false;
  // A signal during start-up stops what has started so far.
  let stopDemo: () => Promise<{ abandoned: number }> = async () => ({ abandoned: 0 });
  let stopAdminConsole: () => Promise<{ abandoned: number }> = async () => ({ abandoned: 0 });
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for requests in flight');
      process.exit(1);
    }
    stopping = true;
    const { delaySeconds, graceSeconds } = config.shutdown;
    running.readiness.beginShutdown();
    logger.info({ signal, delaySeconds, graceSeconds }, 'stopping: /readyz answers 503');
    if (delaySeconds > 0) await new Promise((resolve) => setTimeout(resolve, delaySeconds * 1000));
    logger.info('listeners closed; waiting for requests in flight');
    const drained = await Promise.all([running.drain(), stopAdminConsole(), stopDemo()]);
    const abandoned = drained.reduce((sum, d) => sum + d.abandoned, 0);
    if (abandoned > 0) logger.error({ abandoned, graceSeconds }, 'drained');
    else logger.info({ abandoned }, 'drained');
    await running.close();
    logger.info('database closed');
    process.exit(abandoned > 0 ? 1 : 0);
  };
  const onSignal = (signal: string) => void stop(signal).catch((error: unknown) => {
    logger.error({ err: error }, 'stopping failed');
    process.exit(1);
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The demo (portals, SFTP gateway, seed data: ssh2, express-session, the portals' views) is loaded only when
  // it runs; a server with DEMO_DATA and DEMO_PORTALS off (production) never loads it.
  if (config.demo.data || config.demo.portals) stopDemo = await (await import('./demo.js')).startDemo(running);
  stopAdminConsole = await startAdminConsole(running);
  logger.info(`sign in at ${config.demo.portals ? `http://localhost:${config.demo.eservicePortalPort}` : running.issuer}; mails: ${config.smtpUrl ? 'SMTP' : `${running.issuer}/dev/outbox`}`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
