/**
 * Date filters of console lists: days typed in a date field (`YYYY-MM-DD`, as `<input type="date">` sends
 * them) read as whole days in the deployment's time zone and turned into the instants `[from, before)`.
 */
import { z } from 'zod';

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function isCalendarDay(value: string): boolean {
  const m = DAY.exec(value);
  if (!m) return false;
  const at = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return at.toISOString().slice(0, 10) === value;
}

/** An optional day field: empty means "no bound"; otherwise a real calendar day `YYYY-MM-DD`. */
export const dayField = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
  z.string().refine(isCalendarDay, 'Enter a date such as 2023-02-07.').optional(),
);

/** The `from` and `to` day fields of a filter form; `to` may not be before `from` (error on `to`). */
export const dayRangeSchema = z
  .object({ from: dayField, to: dayField })
  .refine((r) => !r.from || !r.to || r.from <= r.to, { path: ['to'], message: 'The end date is before the start date.' });

/** Milliseconds the wall clock of `timeZone` is ahead of UTC at instant `at` (ms since the epoch). */
function zoneOffsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(at));
  const n = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(at / 1000) * 1000;
}

/**
 * The instant day `day` (`YYYY-MM-DD`) begins in the IANA `timeZone` (00:00 local; across a daylight-saving
 * change the offset is read again at the first guess).
 * @example startOfDayIn('2023-02-07', 'Asia/Hong_Kong') // 2023-02-06T16:00:00.000Z
 */
export function startOfDayIn(day: string, timeZone: string): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  const guess = wall - zoneOffsetMs(wall, timeZone);
  return new Date(wall - zoneOffsetMs(guess, timeZone));
}

/** The day after `day`, both `YYYY-MM-DD`. */
function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * Instants of a day range in `timeZone`: `from` is 00:00 of the first day (inclusive), `before` 00:00 of the
 * day after `to` (exclusive), so both days are included whole. Missing days give no bound.
 */
export function instantRange(range: { from?: string; to?: string }, timeZone: string): { from?: Date; before?: Date } {
  return {
    from: range.from ? startOfDayIn(range.from, timeZone) : undefined,
    before: range.to ? startOfDayIn(nextDay(range.to), timeZone) : undefined,
  };
}
