/**
 * The function catalogue: every access right an account's membership can carry, what it opens, and in
 * which application. Data only; apps and services read it, never re-declare it.
 * Names follow the seed documents (`EU_UserMaintenance`, `EU_ECPSFTP`).
 */

/** Which downstream application a function belongs to. */
export type ApplicationName = 'eservice' | 'ecp';

/**
 * How a function lets its holder in:
 * - `web`: opens pages of the application's web interface;
 * - `sftp`: machine access only (ECP through SFTP), never the web interface;
 * - `administration`: lets a delegated administrator manage others; opens no business pages.
 */
export type FunctionKind = 'web' | 'sftp' | 'administration';

/** One eService (an online form that replaces a paper one). */
export interface EServiceDefinition {
  /** Short id as in the seeds, e.g. `DA 3`. */
  id: string;
  title: string;
}

/** One catalogued function. */
export interface FunctionDefinition {
  name: string;
  title: string;
  description: string;
  application: ApplicationName;
  kind: FunctionKind;
  /** eServices this function opens (eService portal). */
  eServices?: readonly EServiceDefinition[];
  /**
   * ECP folders this function opens: in the web interface for a `web` function, through SFTP for the `sftp`
   * one. Each is catalogued with its kind in policies/ecp-folders.ts.
   */
  ecpFolders?: readonly string[];
}

/** The catalogue, keyed by function name. */
export const FUNCTIONS = {
  EU_UserMaintenance: {
    name: 'EU_UserMaintenance',
    title: 'User maintenance',
    description: 'Maintain users and submit user-maintenance eServices.',
    application: 'eservice',
    kind: 'web',
    eServices: [
      { id: 'DA 3', title: 'Delegated Administrator Application / Maintenance' },
      { id: 'SCard 1', title: 'Smartcard Maintenance for User and DA' },
    ],
  },
  EU_ParticipantshipManagement: {
    name: 'EU_ParticipantshipManagement',
    title: 'Participantship management',
    description: 'Submit participantship eServices such as change of company name or particulars.',
    application: 'eservice',
    kind: 'web',
    eServices: [
      { id: 'AC 9', title: 'Change of Company Name' },
      { id: 'AC 13', title: 'Change of Company Particulars and Contact Persons' },
    ],
  },
  EU_SettlementDepository: {
    name: 'EU_SettlementDepository',
    title: 'Settlement and depository',
    description: 'Submit settlement and depository eServices (buy-in requests and exemptions).',
    application: 'eservice',
    kind: 'web',
    eServices: [
      { id: 'Set 1', title: 'Application for Exemption of Buy-in' },
      { id: 'Set 2', title: 'Early Buy-in Request' },
    ],
  },
  EU_ECPClearingSubmission: {
    name: 'EU_ECPClearingSubmission',
    title: 'ECP clearing submission',
    description: 'Submit clearing files through the ECP web interface.',
    application: 'ecp',
    kind: 'web',
    ecpFolders: ['Clearing Submission', 'Submission Acknowledgements'],
  },
  EU_ECPReportDownload: {
    name: 'EU_ECPReportDownload',
    title: 'ECP report download',
    description: 'Download reports through the ECP web interface.',
    application: 'ecp',
    kind: 'web',
    ecpFolders: ['Daily Reports', 'Monthly Statements'],
  },
  EU_ECPSFTP: {
    name: 'EU_ECPSFTP',
    title: 'ECP through SFTP',
    description: 'Submit and download ECP files through SFTP only; does not open the ECP web interface.',
    application: 'ecp',
    kind: 'sftp',
    ecpFolders: ['Clearing Submission', 'Submission Acknowledgements', 'Daily Reports'],
  },
  EU_ECPAdmin: {
    name: 'EU_ECPAdmin',
    title: 'ECP administration',
    description: 'Administer ECP business users; does not open ECP folders.',
    application: 'ecp',
    kind: 'administration',
  },
} as const satisfies Record<string, FunctionDefinition>;

/** A catalogued function name. */
export type FunctionName = keyof typeof FUNCTIONS;

/** Every catalogued function name, in catalogue order. */
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/** True when `name` is in the catalogue. */
export function isFunctionName(name: string): name is FunctionName {
  return Object.hasOwn(FUNCTIONS, name);
}

/** The definition of a function, or null when it is not catalogued. */
export function findFunction(name: string): FunctionDefinition | null {
  return isFunctionName(name) ? FUNCTIONS[name] : null;
}
