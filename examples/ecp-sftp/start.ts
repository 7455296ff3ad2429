/**
 * Starts the ECP SFTP gateway for `npm start` (server/demo.ts), on SFTP_PORT (3022 by default), once the IdP
 * listens: host key `<DATA_DIR>/sftp/host_ed25519`, files under `<DATA_DIR>/sftp/storage/<organization id>/`, and a
 * sample report in each demo organization's `Daily Reports` so there is something to download.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createAuthorizationClient } from './authorization-client.js';
import { startSftpGateway, type SftpGateway, type SftpGatewayOptions } from './gateway.js';

/** Options of {@link startDemoSftpGateway}. */
export interface DemoSftpGatewayOptions {
  /** The IdP's issuer (already listening: discovery is read at start). */
  issuer: string;
  /** The gateway's service client (registered with `--serves urn:connect-iam:ecp-sftp`) and its secret. */
  clientId: string;
  clientSecret: string;
  /** DATA_DIR: the host key and the stored files go under `<dataDir>/sftp/`. */
  dataDir: string;
  host: string;
  port: number;
  /** Organizations (id and first participant ID) that get a sample daily report when they have none. */
  sampleReports?: { organizationId: string; participantId: string }[];
  logger?: SftpGatewayOptions['logger'];
}

/**
 * Starts the gateway.
 * @throws when discovery at the issuer fails, or the port is taken.
 */
export async function startDemoSftpGateway(options: DemoSftpGatewayOptions): Promise<SftpGateway> {
  const root = path.join(options.dataDir, 'sftp');
  const storageDir = path.join(root, 'storage');
  for (const { organizationId, participantId } of options.sampleReports ?? []) await writeSampleReport(storageDir, organizationId, participantId);
  const authorization = await createAuthorizationClient({
    issuer: options.issuer,
    clientId: options.clientId,
    credentials: { clientSecret: options.clientSecret },
    allowInsecureRequests: options.issuer.startsWith('http:'),
  });
  return startSftpGateway({ authorization, hostKeyFile: path.join(root, 'host_ed25519'), storageDir, host: options.host, port: options.port, logger: options.logger });
}

/** Writes `Daily Reports/DR_<participant>_<date>.csv` for the organization unless it exists. */
async function writeSampleReport(storageDir: string, organizationId: string, participantId: string): Promise<void> {
  const folder = path.join(storageDir, organizationId, 'Daily Reports');
  await mkdir(folder, { recursive: true });
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '');
  const body = `participant_id,trade_date,trades,turnover\n${participantId},${date},42,1250000.00\n`;
  await writeFile(path.join(folder, `DR_${participantId}_${date}.csv`), body, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}
