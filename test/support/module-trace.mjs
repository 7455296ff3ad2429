/**
 * `node --import ./test/support/module-trace.mjs …`: appends every package specifier the process resolves, one a
 * line, to the file named by MODULE_TRACE_FILE (module customization hooks, node:module register). Tests use it to
 * show which packages a command loads, e.g. that the CLI never loads oidc-provider.
 */
import { register } from 'node:module';

register(new URL('./module-trace-hooks.mjs', import.meta.url), { data: { file: process.env.MODULE_TRACE_FILE } });
