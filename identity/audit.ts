/**
 * Subscribes the audit log to the event bus: every published event is appended before the request answers,
 * except those already written in the transaction of the change they describe (`recorded`); and forwards every
 * committed event to an embedding host's hooks.
 */
import type { EventBus } from './events.js';
import type { AuditEvent } from './model.js';
import type { AuditStore } from './stores.js';

/** Makes `audit` record every event published on `events`. */
export function recordEventsInAudit(events: EventBus, audit: AuditStore): void {
  events.subscribe((event, { recorded }) => (recorded ? undefined : audit.append(event)));
}

/** A host's listener on the audit event stream, e.g. forwarding every event to its SIEM. */
export type AuditHook = (event: AuditEvent) => void | Promise<void>;

/** What {@link forwardAuditEvents} returns. */
export interface AuditForwarding {
  /** Resolves once every hook call started so far has settled (close() awaits it before the database closes). */
  settled(): Promise<void>;
}

/**
 * Calls every hook with every event published on `events`, once the event is committed: an event written in its
 * change's transaction arrives through `publishRecorded`, which runs after that commit; any other event after the
 * audit log's subscriber appended it (subscribe this after {@link recordEventsInAudit}, as createIdentity does
 * first). The hooks run after the publisher moves on, never awaited by it: a slow or failing hook cannot delay or
 * undo the change. A hook's error (thrown or rejected) goes to `onError` with the event.
 */
export function forwardAuditEvents(events: EventBus, hooks: readonly AuditHook[], onError: (error: unknown, event: AuditEvent) => void): AuditForwarding {
  const pending = new Set<Promise<void>>();
  if (hooks.length) {
    events.subscribe((event) => {
      for (const hook of hooks) {
        const call: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
          .then(() => hook(event))
          .catch((error: unknown) => onError(error, event))
          .finally(() => pending.delete(call));
        pending.add(call);
      }
    });
  }
  return { settled: async () => void (await Promise.allSettled([...pending])) };
}
