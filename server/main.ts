/**
 * `npm start`: the IdP and, outside production, the demo data and demo portals.
 */
import { ConfigError, loadConfig } from '../lib/index.js';
import { startAdminConsole } from './admin-console.js';
import { startConnectIam } from './app.js';
import { startDemo } from './demo.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const running = await startConnectIam({ config });
  const stopDemo = await startDemo(running);
  const stopAdminConsole = await startAdminConsole(running);
  running.logger.info(`sign in at ${config.demo.portals ? `http://localhost:${config.demo.eservicePortalPort}` : running.issuer}; mails: ${config.smtpUrl ? 'SMTP' : `${running.issuer}/dev/outbox`}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.logger.info({ signal }, 'stopping');
    await stopAdminConsole();
    await stopDemo();
    await running.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
