/**
 * Renders `docs/configuration.md` from {@link environmentSchema}, so the documentation cannot drift from
 * the code. `npm run docs` (server/generate-docs.ts) writes it; `test/docs.test.ts` fails when the file is stale.
 */
import { z } from 'zod';
import { environmentSchema } from './config.js';

/** The Markdown text of docs/configuration.md. */
export function renderConfigurationDoc(): string {
  const json = z.toJSONSchema(environmentSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, { description?: string; default?: unknown; enum?: unknown[] }>;
  };
  const rows = Object.entries(json.properties).map(([name, p]) => {
    const fallback = p.default === undefined ? '(unset)' : `\`${String(p.default).length > 40 ? 'development value' : String(p.default)}\``;
    const values = p.enum ? ` One of ${p.enum.map((v) => `\`${String(v)}\``).join(', ')}.` : '';
    return `| \`${name}\` | ${fallback} | ${(p.description ?? '').replace(/\|/g, '\\|')}${values} |`;
  });
  return [
    '# Configuration',
    '',
    'connect-iam reads its settings from environment variables, validated by one zod schema',
    '(`lib/config.ts`). This page is generated from that schema by `npm run docs`; edit the schema, not this file.',
    'Durations are in seconds. With `NODE_ENV=production` the server refuses to start on the development',
    '`COOKIE_KEYS` or `ENCRYPTION_KEY`, or with an `ISSUER` that is not https.',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
