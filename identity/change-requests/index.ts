/**
 * Change requests (maker-checker): model, payload schemas, store interfaces and the service.
 */
export * from './model.js';
export * from './stores.js';
export { PAYLOAD_SCHEMAS, parsePayload, titleFor, type PayloadOf, type PayloadInput, type CreateAccountPayload } from './payloads.js';
export { formatInstant } from './format-time.js';
export { ACCOUNT_WIDE_TYPES, OPERATOR_REASON_MESSAGES, completionFor, operatorReasonOf, type Completion, type OperatorReason } from './completion.js';
export { DASHBOARD_VIEWS, dashboardQuery, type DashboardPage } from './dashboard.js';
export type { DraftInput } from './maker.js';
export type { ChangeRequestActor, ChangeRequestDeps } from './context.js';
export type { SecondFactorReset } from './operator.js';
export { createChangeRequestService, type ChangeRequestService } from './change-request-service.js';
