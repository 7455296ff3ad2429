/** The emailed one-time code factor. */
export { codeDeliveryOf, createEmailOtpFactor, EMAIL_OTP_AMR, maskEmail, type CodeDelivery, type EmailOtpDeps, type EmailOtpFactor } from './email-otp.js';
export { createEmailOtpStrategy, emailOtpFactor, type EmailOtpStrategy, type EmailOtpSubmission } from './strategy.js';
export type { EmailOtpDelivery, EmailOtpStore } from './stores.js';
