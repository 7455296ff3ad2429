/**
 * Organizations: member firms and their participant IDs.
 */
import { z } from 'zod';
import { DomainError, newId, toFieldErrors, type Clock } from '../../lib/index.js';
import type { EventBus } from '../events.js';
import type { Organization } from '../model.js';
import type { OrganizationStore } from '../stores.js';

/** One participant ID: 2–16 capital letters or digits, e.g. `B01234`. */
const participantIdSchema = z.string().trim().regex(/^[A-Z0-9]{2,16}$/, 'A participant ID is 2–16 capital letters or digits, e.g. B01234.');

/** Input of {@link OrganizationService.createOrganization}. */
export const createOrganizationInput = z.object({
  name: z.string().trim().min(1, 'Enter the organization name.').max(200, 'At most 200 characters.'),
  participantIds: z
    .array(participantIdSchema)
    .min(1, 'Give at least one participant ID.')
    .refine((ids) => new Set(ids).size === ids.length, 'Participant IDs must differ.'),
});

/** Organization use cases. */
export interface OrganizationService {
  /**
   * @throws DomainError `validation_failed` (fieldErrors), `conflict` (name or participant ID in use).
   */
  createOrganization(input: z.input<typeof createOrganizationInput>, actor: string): Promise<Organization>;
  /** @throws DomainError `not_found` when no organization has this id, name or participant ID. */
  getOrganization(reference: string): Promise<Organization>;
  listOrganizations(): Promise<Organization[]>;
  /**
   * Adds a participant ID to the organization (`organization.participant_id_added`).
   * @returns the organization afterwards.
   * @throws DomainError `validation_failed` (fieldErrors.participantId), `not_found`, `conflict` (already held by any organization).
   */
  addParticipantId(organizationId: string, participantId: string, actor: string): Promise<Organization>;
}

/** Creates the organization service. */
export function createOrganizationService(deps: { organizations: OrganizationStore; events: EventBus; clock: Clock }): OrganizationService {
  const { organizations, events, clock } = deps;
  return {
    async createOrganization(input, actor) {
      const parsed = createOrganizationInput.safeParse(input);
      if (!parsed.success) throw new DomainError('validation_failed', 'The organization is not valid.', { fieldErrors: toFieldErrors(parsed.error.issues) });
      const organization: Organization = { id: newId(), name: parsed.data.name, participantIds: parsed.data.participantIds, createdAt: clock.now() };
      await organizations.create(organization);
      await events.publish({ type: 'organization.created', organizationId: organization.id, actor, data: { name: organization.name, participantIds: organization.participantIds } }, clock.now());
      return organization;
    },
    async getOrganization(reference) {
      const found = await organizations.findByReference(reference.trim());
      if (!found) throw new DomainError('not_found', `No organization matches "${reference}" (give its id, name or a participant ID).`);
      return found;
    },
    listOrganizations: () => organizations.list(),
    async addParticipantId(organizationId, participantId, actor) {
      const parsed = participantIdSchema.safeParse(participantId);
      if (!parsed.success) throw new DomainError('validation_failed', 'The participant ID is not valid.', { fieldErrors: { participantId: parsed.error.issues.map((i) => i.message) } });
      const organization = await organizations.findById(organizationId);
      if (!organization) throw new DomainError('not_found', 'No such organization.');
      if (organization.participantIds.includes(parsed.data)) throw new DomainError('conflict', `${organization.name} already holds participant ID ${parsed.data}.`, { fieldErrors: { participantId: ['The organization already holds this participant ID.'] } });
      await organizations.addParticipantId(organization.id, parsed.data);
      await events.publish({ type: 'organization.participant_id_added', organizationId: organization.id, actor, data: { participantId: parsed.data } }, clock.now());
      return { ...organization, participantIds: [...organization.participantIds, parsed.data] };
    },
  };
}
