/**
 * Organizations: member firms and their participant IDs.
 */
import { z } from 'zod';
import { DomainError, newId, toFieldErrors, type Clock } from '../../lib/index.js';
import type { EventBus } from '../events.js';
import type { Organization } from '../model.js';
import type { OrganizationStore } from '../stores.js';

/** Input of {@link OrganizationService.createOrganization}. */
export const createOrganizationInput = z.object({
  name: z.string().trim().min(1, 'Enter the organization name.').max(200, 'At most 200 characters.'),
  participantIds: z
    .array(z.string().trim().regex(/^[A-Z0-9]{2,16}$/, 'A participant ID is 2–16 capital letters or digits, e.g. B01234.'))
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
  };
}
