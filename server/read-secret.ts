/**
 * Reads a secret (a password) for the CLI: the first line of piped standard input, or a hidden prompt on a terminal.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * @returns the first line of standard input, without its line ending.
 * @throws Error when standard input ends before any line arrives.
 */
export async function readSecretFromStdin(prompt: string): Promise<string> {
  const terminal = Boolean(process.stdin.isTTY);
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output: terminal ? output : undefined, terminal });
  if (terminal) {
    process.stderr.write(prompt);
    muted = true;
  }
  try {
    for await (const line of rl) return line.replace(/\r$/, '');
    throw new Error('no password on standard input (pipe it in, e.g. `printf "%s\\n" "$PASSWORD" | npm run iam -- account create …`)');
  } finally {
    if (terminal) process.stderr.write('\n');
    rl.close();
  }
}
