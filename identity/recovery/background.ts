/**
 * Work that must not fail its caller. `run` starts it after the response, so its duration tells the requester
 * nothing (the reset email is sent only when the details match; sending it inside the request would make
 * matches measurably slower). `runNow` awaits it but still never rejects (the set-password email of a confirmed
 * change request: the change is already committed, so a mail outage must not turn it into an error page).
 */
import { randomToken, type Logger } from '../../lib/index.js';

/** Called with a fresh error id (also in the error log) when a task fails; its own failure is only logged. */
export type OnTaskFailure = (errorId: string, error: unknown) => Promise<unknown>;

/** Runs tasks outside the request and lets callers (tests, shutdown) wait for them. */
export interface BackgroundTasks {
  /**
   * Starts `task` without awaiting it. A failure is passed to `onFailure` with a fresh error id (also logged at
   * error level with the cause when a logger was given); it never rejects into the caller.
   */
  run(name: string, task: () => Promise<void>, onFailure: OnTaskFailure): void;
  /**
   * Runs `task` now and awaits it, handling a failure exactly as {@link run} does.
   * @returns null when the task succeeded, otherwise the error id of its failure. Never rejects.
   */
  runNow(name: string, task: () => Promise<void>, onFailure: OnTaskFailure): Promise<string | null>;
  /** Resolves when every task started so far has finished (successfully or not). */
  idle(): Promise<void>;
}

/** Creates the task runner. */
export function createBackgroundTasks(logger?: Logger): BackgroundTasks {
  const running = new Set<Promise<unknown>>();
  const settle = (name: string, started: Promise<void>, onFailure: OnTaskFailure): Promise<string | null> => {
    const done = started
      .then(() => null)
      .catch(async (error: unknown) => {
        const errorId = randomToken(9);
        logger?.error({ err: error, errorId, task: name }, `${name} failed`);
        await onFailure(errorId, error).catch((secondary: unknown) => logger?.error({ err: secondary, errorId, task: name }, `${name}: recording the failure failed too`));
        return errorId;
      })
      .finally(() => running.delete(done));
    running.add(done);
    return done;
  };
  return {
    run(name, task, onFailure) {
      // Start on the next turn of the event loop: the caller's response is written first. This matters with the
      // embedded database, whose queries run on this thread and would otherwise delay the answer of a match.
      void settle(name, new Promise<void>((resolve) => setImmediate(resolve)).then(task), onFailure);
    },
    runNow: (name, task, onFailure) => settle(name, Promise.resolve().then(task), onFailure),
    async idle() {
      while (running.size) await Promise.allSettled([...running]);
    },
  };
}
