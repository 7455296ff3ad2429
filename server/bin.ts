#!/usr/bin/env node
/**
 * The `connect-iam` command of the published package (`bin` in package.json): the operator CLI of
 * server/cli.ts, compiled, run by plain Node (`npx connect-iam organization list`). From the repository,
 * `npm run iam --` runs the same CLI from the TypeScript sources.
 */
await import('./cli.js');
