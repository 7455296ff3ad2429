/**
 * Work that runs after the response, so its duration tells the requester nothing (the reset email is sent
 * only when the details match; sending it inside the request would make matches measurably slower).
 */
import { randomToken, type Logger } from '../../lib/index.js';

/** Runs tasks outside the request and lets callers (tests, shutdown) wait for them. */
export interface BackgroundTasks {
  /**
   * Starts `task` without awaiting it. A failure is passed to `onFailure` with a fresh error id (also logged at
   * error level with the cause when a logger was given); it never rejects into the caller.
   */
  run(name: string, task: () => Promise<void>, onFailure: (errorId: string, error: unknown) => Promise<unknown>): void;
  /** Resolves when every task started so far has finished (successfully or not). */
  idle(): Promise<void>;
}

/** Creates the task runner. */
export function createBackgroundTasks(logger?: Logger): BackgroundTasks {
  const running = new Set<Promise<void>>();
  return {
    run(name, task, onFailure) {
      // Start on the next turn of the event loop: the caller's response is written first. This matters with the
      // embedded database, whose queries run on this thread and would otherwise delay the answer of a match.
      const done: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(task)
        .catch(async (error: unknown) => {
          const errorId = randomToken(9);
          logger?.error({ err: error, errorId, task: name }, `${name} failed`);
          await onFailure(errorId, error).catch((secondary: unknown) => logger?.error({ err: secondary, errorId, task: name }, `${name}: recording the failure failed too`));
        })
        .finally(() => running.delete(done));
      running.add(done);
    },
    async idle() {
      while (running.size) await Promise.allSettled([...running]);
    },
  };
}
