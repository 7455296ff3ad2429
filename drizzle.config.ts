/**
 * drizzle-kit configuration: `npx drizzle-kit generate` (npm run db:generate) compares `storage/schema.ts`
 * with the last snapshot and writes a new SQL migration to `storage/migrations/`. The application applies
 * them at start (storage/migrate.ts); never edit a migration that has been released.
 */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './storage/schema.ts',
  out: './storage/migrations',
});
