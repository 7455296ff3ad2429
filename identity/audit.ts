/**
 * Subscribes the audit log to the event bus: every published event is appended before the request answers,
 * except those already written in the transaction of the change they describe (`recorded`).
 */
import type { EventBus } from './events.js';
import type { AuditStore } from './stores.js';

/** Makes `audit` record every event published on `events`. */
export function recordEventsInAudit(events: EventBus, audit: AuditStore): void {
  events.subscribe((event, { recorded }) => (recorded ? undefined : audit.append(event)));
}
