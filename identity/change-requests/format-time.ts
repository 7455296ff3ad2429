/**
 * Times as the seeds show them: `07-Feb-2023 10:43 HKT` (design/domain.md), in the deployment's time zone.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Formats `at` as `DD-Mon-YYYY HH:MM <zone>` in the IANA `timeZone` (24-hour clock). The zone is the short
 * name the platform knows (`UTC`, `GMT+8`, `HKT` where available).
 * @example formatInstant(new Date('2023-02-07T02:43:00Z'), 'Asia/Hong_Kong') // '07-Feb-2023 10:43 GMT+8'
 */
export function formatInstant(at: Date, timeZone = 'UTC'): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    day: '2-digit',
    month: 'numeric',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('day')}-${MONTHS[Number(part('month')) - 1]}-${part('year')} ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}
