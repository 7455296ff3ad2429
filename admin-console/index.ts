/**
 * admin-console: the web console where delegated administrators run their organization's accounts through
 * maker-checker change requests. Signs in through the IdP with portal-adapters; uses identity/ in-process.
 */
export { createAdminConsole } from './app.js';
export type { AdminConsoleOptions, AdminContext } from './options.js';
