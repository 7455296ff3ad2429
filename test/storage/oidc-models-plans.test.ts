/**
 * The oidc_models statements that run at every token and userinfo request are planned once per connection, not at
 * every execution: PostgreSQL (plan_cache_mode=auto) keeps their generic plan after five custom ones. With
 * `id = any($ids)` it never did, which cost the userinfo statement about 0.35 of its 0.45 backend CPU-ms.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/index.js';
import { consumeAndSaveModels, consumeModel, findModelById, saveModels, upsertModel } from '../../storage/oidc-models.js';
import { openTestDatabase } from '../support/database.js';

describe('oidc_models statements', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openTestDatabase();
  }, 60_000);
  afterAll(() => database?.close(), 60_000);

  it('keep their generic plan when used by one id: find, consume, consume-and-save, save-batch', async () => {
    const { db } = database;
    const now = new Date();
    const model = (id: string) => ({ id, payload: { kind: 'RefreshToken', accountId: 'account-1', grantId: 'grant-1' }, userCode: null });
    // As many rows as a server has after some use, so the planner estimates an index probe as one would there.
    await db.execute(sql`insert into oidc_models (kind, id, payload, grant_id, account_id, expires_at)
      select 'AccessToken', 'filler-' || i, '{}'::jsonb, 'grant-' || i, 'account-1', now() + interval '1 hour' from generate_series(1, 5000) i`);
    await db.execute(sql`analyze oidc_models`);
    await upsertModel(db, 'RefreshToken', model('token-0'), 60, now);
    // Sequential calls on an idle pool run on one connection (pg-pool hands out the one released last).
    for (let i = 0; i < 10; i++) {
      expect(await findModelById(db, 'RefreshToken', [`token-${i}`], now, `token-${i}`, true)).toMatchObject({ id: `token-${i}` });
      expect(await consumeAndSaveModels(db, 'RefreshToken', [`token-${i}`], [{ kind: 'RefreshToken', model: model(`token-${i + 1}`), expiresInSeconds: 60, now }], now)).toEqual({ consumed: true });
      await upsertModel(db, 'AccessToken', model(`access-${i}`), 60, now);
      expect(await consumeModel(db, 'AccessToken', [`access-${i}`], now)).toEqual({ consumed: true });
      await upsertModel(db, 'Interaction', model(`interaction-${i}`), 60, now);
      expect(await saveModels(db, [{ kind: 'Session', model: model(`session-${i}`), expiresInSeconds: 60, now }], { kind: 'Interaction', ids: [`interaction-${i}`] })).toEqual({ saved: true });
    }
    const result = await db.execute(sql`select name, generic_plans from pg_prepared_statements where name like '%oidc_models_%'`);
    const { rows } = result as unknown as { rows: { name: string; generic_plans: string | number }[] };
    const plans = (suffix: string) => rows.filter((row) => row.name.endsWith(suffix)).reduce((sum, row) => sum + Number(row.generic_plans), 0);
    for (const name of ['oidc_models_find', 'oidc_models_consume', 'oidc_models_consume_save', 'oidc_models_save_batch', 'oidc_models_upsert']) {
      expect(plans(name), name).toBeGreaterThan(0);
    }
  });
});
