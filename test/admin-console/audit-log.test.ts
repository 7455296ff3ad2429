import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cheerio from 'cheerio';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRoutes } from '../../admin-console/audit-routes.js';
import { csvCell, toCsv } from '../../admin-console/csv.js';
import { instantRange, startOfDayIn } from '../../admin-console/date-range.js';
import type { EventType } from '../../identity/index.js';
import { startTestIdp, TEST_PASSWORD, type TestIdp } from '../support/harness.js';
import { startTestConsole, type TestConsole } from './console-harness.js';

const ZONE = 'Asia/Hong_Kong';

/** The audit table's rows as `{ event, account, actor, details, time }` texts. */
function auditTable(html: string) {
  const $ = cheerio.load(html);
  return $('table.rows tbody tr')
    .toArray()
    .map((tr) => {
      const cell = (label: string) => $(tr).find(`td[data-label="${label}"]`).text().trim();
      return { time: cell('Time'), event: cell('Event'), account: cell('Account'), actor: cell('Actor / IP'), details: cell('Details') };
    });
}

/** RFC 4180 records of a CSV body (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') record.push(field), (field = '');
    else if (ch === '\r' && text[i + 1] === '\n') record.push(field), records.push(record), (record = []), (field = ''), i++;
    else field += ch;
  }
  return records;
}

describe('CSV cells and days in a time zone', () => {
  it('quotes commas, quotes and line breaks and neutralises formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('Chan, "Tai Man"\nJr')).toBe('"Chan, ""Tai Man""\nJr"');
    expect(['=1+2', '+1', '-1', '@SUM(A1)', '\tx'].map(csvCell)).toEqual(["'=1+2", "'+1", "'-1", "'@SUM(A1)", "'\tx"]);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvCell(null)).toBe('');
    expect(toCsv(['a', 'b'], [['1', 'x,y']])).toBe('a,b\r\n1,"x,y"\r\n');
  });

  it('reads days as whole days of the deployment time zone', () => {
    expect(startOfDayIn('2023-02-07', ZONE).toISOString()).toBe('2023-02-06T16:00:00.000Z');
    expect(startOfDayIn('2023-03-26', 'Europe/London').toISOString()).toBe('2023-03-26T00:00:00.000Z');
    expect(startOfDayIn('2023-07-01', 'Europe/London').toISOString()).toBe('2023-06-30T23:00:00.000Z');
    const range = instantRange({ from: '2023-02-07', to: '2023-02-07' }, ZONE);
    expect([range.from?.toISOString(), range.before?.toISOString()]).toEqual(['2023-02-06T16:00:00.000Z', '2023-02-07T16:00:00.000Z']);
  });
});

describe('audit log and dashboard filters in the console (HTTP)', () => {
  let t: TestIdp;
  let c: TestConsole;
  let fakeNow: Date | null = null;
  let orgA: string;
  let orgB: string;
  let daA: { id: string; userId: string };
  let daA2: { id: string; userId: string };
  let daB: { id: string; userId: string };

  beforeAll(async () => {
    t = await startTestIdp({ TIME_ZONE: ZONE, LOCKOUT_MAX_FAILURES: '3' }, { clock: { now: () => fakeNow ?? new Date() } });
    c = await startTestConsole(t, { timeZone: ZONE });
    orgA = await t.organization();
    orgB = await t.newOrganization();
    daA = await t.createAccount({ userId: 'al.da.a', delegatedAdministrator: true });
    daA2 = await t.createAccount({ userId: 'al.da.a2', delegatedAdministrator: true });
    daB = await t.createAccount({ userId: 'al.da.b', delegatedAdministrator: true, organization: orgB });
  });
  afterAll(async () => {
    await c?.close();
    await t?.close();
  });

  const person = (userId: string, name: string, organization: string) =>
    t.idp.identity.accounts.createAccount({ organization, userId, name, email: `${userId}@example.com`, phone: '+852 5555 0000', functions: ['EU_UserMaintenance'], delegatedAdministrator: false, password: TEST_PASSWORD }, 'test');
  const publishAt = (iso: string, type: EventType, accountId: string, data: Record<string, unknown> = {}) => t.idp.identity.events.publish({ type, accountId, ip: '203.0.113.9', data }, new Date(iso));
  const get = async (path: string, who = daA) => request(c.app).get(path).set('Cookie', await c.cookieFor(who));

  it("shows a delegated administrator their organization's sign-in failures and locks, not another organization's", async () => {
    const userA = (await person('al.user.a', 'Alice Member', orgA)).account;
    const userB = (await person('al.user.b', 'Bob Outsider', orgB)).account;
    for (let i = 0; i < 3; i++) await t.idp.identity.passwordSignIn.verifyPassword(userA.userId, 'wrong password', { ip: '198.51.100.7' });
    await t.idp.identity.passwordSignIn.verifyPassword(userB.userId, 'wrong password', { ip: '198.51.100.8' });
    const foreignDraft = await t.idp.identity.changeRequests.createDraft({ accountId: daB.id }, { organizationId: orgB, type: 'create_account', payload: { userId: 'al.foreign', name: 'Foreign', email: 'al.foreign@example.com', phone: '+852 5555 0101', functions: [] } });
    const ownDraft = await t.idp.identity.changeRequests.createDraft({ accountId: daA2.id }, { organizationId: orgA, type: 'create_account', payload: { userId: 'al.own', name: 'Own', email: 'al.own@example.com', phone: '+852 5555 0102', functions: [] } });

    const page = await get('/audit');
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/audit"');
    const rows = auditTable(page.text);
    const aboutA = rows.filter((r) => r.account === 'al.user.a (Alice Member)');
    expect(aboutA.filter((r) => r.event === 'account.sign_in_failed')).toHaveLength(3);
    expect(aboutA.filter((r) => r.event === 'account.locked')).toHaveLength(1);
    // (The newest row may be account.lock_notified, which the IdP records itself after emailing the holder.)
    expect(aboutA.find((r) => r.event === 'account.sign_in_failed')!.actor).toContain('198.51.100.7');
    expect(aboutA[0]!.time).toMatch(/^\d{2}-\w{3}-\d{4} \d{2}:\d{2} (GMT\+8|HKT)$/);
    expect(page.text).not.toContain('al.user.b');
    expect(page.text).not.toContain('198.51.100.8');
    expect(page.text).not.toContain(foreignDraft.id);
    expect(rows.find((r) => r.event === 'change_request.created')?.details).toContain(ownDraft.id);
    expect(rows.find((r) => r.event === 'change_request.created')?.actor).toContain('al.da.a2 (Test al.da.a2)');
    const times = cheerio.load(page.text)('td[data-label="Time"] time').toArray().map((e) => e.attribs.datetime!);
    expect(times).toEqual([...times].sort().reverse());

    const other = await get('/audit', daB);
    expect(other.text).toContain('al.user.b (Bob Outsider)');
    expect(other.text).not.toContain('al.user.a');
  });

  it('narrows the events by type, account and days read in the deployment time zone', async () => {
    const carol = (await person('al.carol', 'Carol Days', orgA)).account;
    await publishAt('2023-02-06T15:30:00Z', 'account.unlocked', carol.id, { marker: 'late-on-the-6th-hkt' });
    await publishAt('2023-02-06T16:30:00Z', 'account.unlocked', carol.id, { marker: 'early-on-the-7th-hkt' });
    await publishAt('2023-02-08T15:59:00Z', 'account.locked', carol.id, { marker: 'last-minute-of-the-8th-hkt' });

    const byType = auditTable((await get('/audit?type=account.locked')).text);
    expect(byType.length).toBeGreaterThan(0);
    expect(new Set(byType.map((r) => r.event))).toEqual(new Set(['account.locked']));

    const byAccount = auditTable((await get('/audit?account=AL.CAROL')).text);
    expect(new Set(byAccount.map((r) => r.account))).toEqual(new Set(['al.carol (Carol Days)']));
    expect(byAccount.map((r) => r.details).filter((d) => d.includes('marker'))).toHaveLength(3);

    const seventh = auditTable((await get('/audit?account=al.carol&from=2023-02-07&to=2023-02-07')).text);
    expect(seventh.map((r) => r.details)).toEqual(['marker: early-on-the-7th-hkt']);
    expect(seventh[0]!.time).toMatch(/^07-Feb-2023 00:30 /);
    const through8th = auditTable((await get('/audit?account=al.carol&from=2023-02-07&to=2023-02-08&type=account.locked')).text);
    expect(through8th.map((r) => r.details)).toEqual(['marker: last-minute-of-the-8th-hkt']);

    const foreign = await get('/audit?account=al.da.b');
    expect(auditTable(foreign.text)).toEqual([]);
    expect(foreign.text).toContain('No event matches.');
  });

  it('answers wrong filters with 400 and field errors', async () => {
    const res = await get('/audit?type=not.an_event&from=2023-02-09&to=2023-02-01');
    expect(res.status).toBe(400);
    expect(res.text).toContain('Choose an event type from the list.');
    expect(res.text).toContain('The end date is before the start date.');
    expect(res.text).toMatch(/id="to"[^>]*aria-invalid="true"/);
    const csv = await get('/audit.csv?from=2023-02-30');
    expect(csv.status).toBe(400);
    expect(csv.text).toContain('Enter a date such as');
  });

  it('pages 50 events at a time, newest first, keeping the filters', async () => {
    const dave = (await person('al.dave', 'Dave Pages', orgA)).account;
    for (let i = 0; i < 55; i++) await publishAt(new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(), 'email_otp.sent', dave.id, { n: i });
    const first = await get('/audit?account=al.dave&type=email_otp.sent');
    const rows = auditTable(first.text);
    expect(rows).toHaveLength(50);
    expect(rows[0]!.details).toBe('n: 54');
    const next = cheerio.load(first.text)('a[rel="next"]').attr('href');
    expect(next).toBe('/audit?type=email_otp.sent&account=al.dave&page=2');
    const second = auditTable((await get(next!)).text);
    expect(second.map((r) => r.details)).toEqual(['n: 4', 'n: 3', 'n: 2', 'n: 1', 'n: 0']);
  });

  it('exports the filtered events as CSV with escaped names and neutralised formulas', async () => {
    const tricky = (await person('al.tricky', 'Chan, "Tai Man"\nJr', orgA)).account;
    const formula = (await person('al.formula', '=HYPERLINK("http://evil.example","x")', orgA)).account;
    await publishAt('2023-04-07T02:43:00Z', 'account.unlocked', tricky.id);
    await publishAt('2023-04-07T02:44:00Z', 'account.unlocked', formula.id, { note: '-2+3' });
    await publishAt('2023-04-08T02:44:00Z', 'account.unlocked', formula.id, { note: 'another day' });
    const res = await get('/audit.csv?type=account.unlocked&from=2023-04-07&to=2023-04-07');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="?audit-Test-Securities-Limited\.csv"?$/);
    expect(res.text).toContain(',"Chan, ""Tai Man""\nJr",');
    expect(res.text).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"")",`);
    const records = parseCsv(res.text.replace(/^\uFEFF/, ''));
    expect(records[0]).toEqual(['Time', 'Time (UTC, ISO 8601)', 'Event', 'User ID', 'Name', 'Actor', 'IP', 'Details']);
    expect(records.slice(1)).toEqual([
      ['07-Apr-2023 10:44 GMT+8', '2023-04-07T02:44:00.000Z', 'account.unlocked', 'al.formula', `'=HYPERLINK("http://evil.example","x")`, '', '203.0.113.9', 'note: -2+3'],
      ['07-Apr-2023 10:43 GMT+8', '2023-04-07T02:43:00.000Z', 'account.unlocked', 'al.tricky', 'Chan, "Tai Man"\nJr', '', '203.0.113.9', ''],
    ]);
    const foreign = await get('/audit.csv', daB);
    expect(foreign.status).toBe(200);
    expect(foreign.text).not.toContain('al.tricky');
    expect(foreign.text).toContain('al.da.b');
  });

  it('renders a stored XSS payload in an account name escaped', async () => {
    const evil = (await person('al.xss', '<script>alert("xss")</script><img src=x onerror=alert(1)>', orgA)).account;
    await publishAt('2023-03-02T00:00:00Z', 'account.unlocked', evil.id, { note: '<b>bold</b>' });
    const res = await get('/audit?account=al.xss');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).not.toContain('<img src=x');
    expect(res.text).not.toContain('<b>bold</b>');
    expect(res.text).toContain('&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;');
  });

  it('can be mounted with an all-organizations scope (the operator) under another path', async () => {
    const app = express();
    app.set('view engine', 'ejs');
    app.set('views', path.join(path.dirname(fileURLToPath(import.meta.url)), '../../admin-console/views'));
    app.locals.productName = 'test';
    const scope = () => ({ organizationId: null, timeZone: 'UTC', description: 'Every event.', fileLabel: 'all' });
    app.use('/operator', auditRoutes(t.idp.identity, { scope }));
    const page = await request(app).get('/operator/audit?type=account.created');
    const accounts = auditTable(page.text).map((r) => r.account);
    expect(accounts).toEqual(expect.arrayContaining(['al.user.a (Alice Member)', 'al.user.b (Bob Outsider)']));
    expect(cheerio.load(page.text)('form[role="search"]').attr('action')).toBe('/operator/audit');
    expect(page.text).toContain('href="/operator/audit.csv?type=account.created"');
    const csv = await request(app).get('/operator/audit.csv?type=account.created');
    expect(csv.headers['content-disposition']).toContain('audit-all.csv');
    expect(csv.text).toContain('al.user.b');
  });

  it('narrows the dashboard by request type and by the day of the last update', async () => {
    const draft = (userId: string, type: 'create_account' | 'suspend_account', payload: Record<string, unknown>) =>
      t.idp.identity.changeRequests.createDraft({ accountId: daA2.id }, { organizationId: orgA, type, payload }).then((d) => t.idp.identity.changeRequests.submit({ accountId: daA2.id }, d.id));
    const target = (await person('al.target', 'Target Person', orgA)).account;
    fakeNow = new Date('2023-02-07T02:43:00Z');
    const created = await draft('al.dash.new', 'create_account', { userId: 'al.dash.new', name: 'Dash New', email: 'al.dash.new@example.com', phone: '+852 5555 0103', functions: [] });
    fakeNow = new Date('2023-02-09T17:00:00Z');
    const suspend = await draft(target.userId, 'suspend_account', { accountId: target.id });
    fakeNow = null;
    const refs = (html: string) => {
      const $ = cheerio.load(html);
      return $('#to-check').next('table').find('td[data-label="Details"] .code').toArray().map((e) => $(e).text());
    };
    const all = refs((await get('/')).text);
    expect(all).toEqual(expect.arrayContaining([created.reference, suspend.reference]));
    expect(refs((await get('/?type=suspend_account')).text)).toEqual([suspend.reference]);
    expect(refs((await get('/?type=create_account')).text)).toContain(created.reference);
    expect(refs((await get('/?type=create_account')).text)).not.toContain(suspend.reference);
    expect(refs((await get('/?from=2023-02-07&to=2023-02-07')).text)).toEqual([created.reference]);
    expect(refs((await get('/?from=2023-02-10')).text)).toEqual(expect.arrayContaining([suspend.reference]));
    expect(refs((await get('/?from=2023-02-10')).text)).not.toContain(created.reference);
    expect(refs((await get('/?from=2023-02-08&to=2023-02-09')).text)).toEqual([]);
    const page = await get('/?type=suspend_account&from=2023-02-10');
    expect(page.text).toMatch(/<option value="suspend_account" selected>/);
    expect(page.text).toContain('value="2023-02-10"');
    const wrong = await get('/?from=2023-02-10&to=2023-02-01');
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('The end date is before the start date.');
  });
});
