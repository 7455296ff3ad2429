/**
 * {@link OrganizationStore} on PostgreSQL: `organizations` plus `participant_ids`, whose primary key makes
 * a participant ID unique across all organizations.
 */
import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Organization, OrganizationStore } from '../identity/index.js';
import { DomainError } from '../lib/index.js';
import type { Db, Executor } from './database.js';
import { isUuid, uniqueViolation } from './postgres-errors.js';
import { organizations, participantIds } from './schema.js';

type OrganizationRow = typeof organizations.$inferSelect;

/** Attaches each organization's participant IDs, in the order they were given. */
export async function withParticipantIds(db: Executor, rows: OrganizationRow[]): Promise<Organization[]> {
  if (rows.length === 0) return [];
  const ids = await db
    .select()
    .from(participantIds)
    .where(
      inArray(
        participantIds.organizationId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(participantIds.position));
  return rows.map((row) => ({ ...row, participantIds: ids.filter((p) => p.organizationId === row.id).map((p) => p.participantId) }));
}

async function conflictFor(db: Executor, organization: Organization, constraint: string): Promise<DomainError> {
  if (constraint === 'organizations_name_lower_key') {
    return new DomainError('conflict', `An organization named "${organization.name}" already exists.`, { fieldErrors: { name: ['This name is already used by another organization.'] } });
  }
  if (constraint === 'participant_ids_pkey') {
    const taken = await db.select({ id: participantIds.participantId }).from(participantIds).where(inArray(participantIds.participantId, organization.participantIds));
    const list = taken.map((t) => t.id).join(', ') || organization.participantIds.join(', ');
    return new DomainError('conflict', `Participant ID ${list} is already used by another organization.`, { fieldErrors: { participantIds: [`Already used: ${list}.`] } });
  }
  return new DomainError('conflict', 'This organization already exists.');
}

/** Creates the organization store over `db`. */
export function createOrganizationStore(db: Db): OrganizationStore {
  const findOne = async (condition: ReturnType<typeof eq>) => {
    const rows = await db.select().from(organizations).where(condition).limit(1);
    return (await withParticipantIds(db, rows))[0] ?? null;
  };

  return {
    async create(organization) {
      try {
        await db.transaction(async (tx) => {
          await tx.insert(organizations).values({ id: organization.id, name: organization.name, createdAt: organization.createdAt });
          await tx.insert(participantIds).values(organization.participantIds.map((participantId, position) => ({ participantId, organizationId: organization.id, position })));
        });
      } catch (error) {
        const constraint = uniqueViolation(error);
        if (constraint === null) throw error;
        throw await conflictFor(db, organization, constraint);
      }
    },

    findById: async (id) => (isUuid(id) ? findOne(eq(organizations.id, id)) : null),

    async findByReference(reference) {
      if (isUuid(reference)) {
        const byId = await findOne(eq(organizations.id, reference));
        if (byId) return byId;
      }
      const byName = await findOne(sql`lower(${organizations.name}) = lower(${reference})`);
      if (byName) return byName;
      const [participant] = await db.select().from(participantIds).where(eq(participantIds.participantId, reference.toUpperCase())).limit(1);
      return participant ? findOne(eq(organizations.id, participant.organizationId)) : null;
    },

    async list() {
      return withParticipantIds(db, await db.select().from(organizations).orderBy(asc(organizations.name)));
    },

    async addParticipantId(organizationId, participantId) {
      const organization = isUuid(organizationId) ? await findOne(eq(organizations.id, organizationId)) : null;
      if (!organization) throw new DomainError('not_found', 'The organization does not exist.');
      try {
        await db.insert(participantIds).values({ participantId, organizationId, position: sql`(select coalesce(max(${participantIds.position}), -1) + 1 from ${participantIds} where ${participantIds.organizationId} = ${organizationId})` });
      } catch (error) {
        if (uniqueViolation(error) === null) throw error;
        throw await conflictFor(db, { ...organization, participantIds: [participantId] }, 'participant_ids_pkey');
      }
    },
  };
}
