/**
 * Access decisions: pure functions that return `{ allowed, reason }` and deny by default. Only
 * enforcement points (services, portal-adapters' `requireFunction`) turn a deny into an error or a page.
 */
import { findFunction, FUNCTIONS, type FunctionDefinition } from './functions.js';

/** The outcome of an access check. `reason` is a stable code; `message` is for people. */
export interface Decision {
  allowed: boolean;
  reason: string;
  message: string;
}

/**
 * Allows when the holder has at least one of `required` (all catalogued). Denies when `required` is empty
 * or names an unknown function: a typo in a route must never open it.
 */
export function evaluateFunctions(held: readonly string[], required: readonly string[]): Decision {
  if (required.length === 0 || required.some((f) => !findFunction(f))) {
    return { allowed: false, reason: 'policy_misconfigured', message: 'This page is not available.' };
  }
  if (required.some((f) => held.includes(f))) return { allowed: true, reason: 'function_held', message: 'Allowed.' };
  const titles = required.map((f) => `${f} (${findFunction(f)!.title})`).join(' or ');
  return {
    allowed: false,
    reason: 'function_missing',
    message: `This needs the access right ${titles}. Ask your organization's delegated administrator to grant it.`,
  };
}

/** What ECP shows an account, derived from its functions (seed FAQ 004, questions 5–7). */
export interface EcpAccess extends Decision {
  reason: 'ecp_web' | 'ecp_administration_only' | 'ecp_sftp_only' | 'no_ecp_function';
  /** Folders opened in the web interface (empty unless allowed). */
  folders: string[];
}

/**
 * Decides ECP web access. Web functions open their folders; an account whose ECP functions are only
 * administration rights is refused ("Error 2000"); one with only `EU_ECPSFTP` is told its access is SFTP only.
 */
export function evaluateEcpAccess(held: readonly string[]): EcpAccess {
  const ecp = held.map((f) => findFunction(f)).filter((d): d is FunctionDefinition => d?.application === 'ecp');
  const web = ecp.filter((d) => d.kind === 'web');
  if (web.length > 0) {
    const folders = [...new Set(web.flatMap((d) => d.ecpFolders ?? []))];
    return { allowed: true, reason: 'ecp_web', message: 'Allowed.', folders };
  }
  if (ecp.some((d) => d.kind === 'sftp')) {
    return {
      allowed: false,
      reason: 'ecp_sftp_only',
      message: `Your access to ECP is through SFTP only (${FUNCTIONS.EU_ECPSFTP.name}). The web interface needs an ECP web function; ask your delegated administrator if you need one.`,
      folders: [],
    };
  }
  if (ecp.some((d) => d.kind === 'administration')) {
    return {
      allowed: false,
      reason: 'ecp_administration_only',
      message: 'Your account holds ECP administration rights only. Administrators cannot use ECP to submit or download files; ask your delegated administrator to grant an ECP web function to a business user.',
      folders: [],
    };
  }
  return {
    allowed: false,
    reason: 'no_ecp_function',
    message: 'Your account holds no ECP function. Ask your delegated administrator to grant one.',
    folders: [],
  };
}

/** The eServices the held functions open, in catalogue order, without duplicates. */
export function listEServices(held: readonly string[]): { id: string; title: string; function: string }[] {
  const out: { id: string; title: string; function: string }[] = [];
  for (const name of held) {
    const def = findFunction(name);
    for (const s of def?.eServices ?? []) out.push({ ...s, function: def!.name });
  }
  return out;
}
