/**
 * Subscribes the audit log to the event bus: every published event is appended before the request answers.
 */
import type { EventBus } from './events.js';
import type { AuditStore } from './stores.js';

/** Makes `audit` record every event published on `events`. */
export function recordEventsInAudit(events: EventBus, audit: AuditStore): void {
  events.subscribe((event) => audit.append(event));
}
