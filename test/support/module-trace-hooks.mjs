/** The resolve hook of module-trace.mjs (runs on the loader thread): records bare specifiers. */
import { appendFileSync } from 'node:fs';

let file;

/** Receives `{ file }` from register(). */
export function initialize(data) {
  file = data?.file;
}

/** Records `specifier` when it names a package (not node: builtins, relative paths or URLs), then resolves as usual. */
export async function resolve(specifier, context, next) {
  if (file && !/^(node:|\.|\/|file:|data:)/.test(specifier)) appendFileSync(file, `${specifier}\n`);
  return next(specifier, context);
}
