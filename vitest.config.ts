import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * The suite runs once on the embedded PostgreSQL (PGlite) and, when `TEST_DATABASE_URL` is set,
 * a second time against that PostgreSQL server. `test/support/database.ts` reads `CONNECT_IAM_TEST_DB`.
 */
const projects: TestProjectInlineConfiguration[] = [
  { extends: true, test: { name: 'pglite', env: { CONNECT_IAM_TEST_DB: 'pglite' }, include: ['test/**/*.test.ts'] } },
];
if (process.env.TEST_DATABASE_URL) {
  projects.push({ extends: true, test: { name: 'postgres', env: { CONNECT_IAM_TEST_DB: 'postgres' }, include: ['test/**/*.test.ts'] } });
}

export default defineConfig({
  test: {
    projects,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
