/**
 * A scripted browser for protocol tests: fetch with a cookie jar (tough-cookie), manual redirects, and
 * HTML forms read with cheerio — fields are found by their label text, as a person would find them.
 * Pages themselves are tested in a real browser (playwright-core) elsewhere.
 */
import * as cheerio from 'cheerio';
import { CookieJar } from 'tough-cookie';

/** A fetched page. */
export interface Page {
  url: string;
  status: number;
  html: string;
  headers: Headers;
}

/** A user agent with its own cookies. */
export class UserAgent {
  readonly jar = new CookieJar();

  /** One request, no redirect following. */
  async request(url: string, init: { method?: string; body?: URLSearchParams; headers?: Record<string, string> } = {}): Promise<Page> {
    const cookie = await this.jar.getCookieString(url);
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      body: init.body,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), accept: 'text/html', ...init.headers },
    });
    for (const setCookie of response.headers.getSetCookie()) await this.jar.setCookie(setCookie, url, { ignoreError: true });
    return { url, status: response.status, html: await response.text(), headers: response.headers };
  }

  /**
   * Follows redirects from `url` until a non-redirect answer or until `stopAt(url)` is true for the next hop.
   * @returns the last page, or `{ redirectedTo }` when stopped.
   */
  async follow(url: string, init: Parameters<UserAgent['request']>[1] = {}, stopAt: (next: string) => boolean = () => false): Promise<Page & { redirectedTo?: string }> {
    let page = await this.request(url, init);
    for (let hops = 0; hops < 20 && page.status >= 300 && page.status < 400; hops++) {
      const next = new URL(page.headers.get('location')!, page.url).toString();
      if (stopAt(next)) return { ...page, redirectedTo: next };
      page = await this.request(next);
    }
    return page;
  }

  /**
   * Fills the form that contains a field labelled `labels`' keys (or the first form), submits it with its
   * hidden fields (CSRF token), and follows redirects like {@link follow}.
   * @param labels - label text (exact, trimmed) → value.
   * @param button - the text of the submit button to press (its name/value are sent).
   */
  async submit(page: Page, labels: Record<string, string>, options: { button?: string; stopAt?: (next: string) => boolean } = {}): Promise<Page & { redirectedTo?: string }> {
    const $ = cheerio.load(page.html);
    const fieldNames: Record<string, string> = {};
    for (const [label, value] of Object.entries(labels)) {
      const el = $('label').filter((_, l) => $(l).text().trim() === label).first();
      if (!el.length) throw new Error(`no field labelled "${label}" on ${page.url}`);
      const id = el.attr('for');
      const input = id ? $(`#${id}`) : el.find('input,select,textarea').first();
      const name = input.attr('name');
      if (!name) throw new Error(`label "${label}" points at no named field`);
      fieldNames[name] = value;
    }
    const firstName = Object.keys(fieldNames)[0];
    let form = firstName ? $(`form:has([name="${firstName}"])`).first() : $('form').first();
    if (options.button) form = $('form').filter((_, f) => $(f).find('button,input[type=submit]').filter((__, b) => ($(b).text().trim() || $(b).attr('value')) === options.button).length > 0).first();
    if (!form.length) throw new Error(`no matching form on ${page.url}`);
    const body = new URLSearchParams();
    form.find('input[type=hidden]').each((_, i) => void body.append($(i).attr('name') ?? '', $(i).attr('value') ?? ''));
    form.find('input[type=radio]:checked').each((_, i) => void body.append($(i).attr('name') ?? '', $(i).attr('value') ?? ''));
    for (const [name, value] of Object.entries(fieldNames)) body.set(name, value);
    const button = options.button ? form.find('button,input[type=submit]').filter((_, b) => ($(b).text().trim() || $(b).attr('value')) === options.button).first() : null;
    if (button?.attr('name')) body.set(button.attr('name')!, button.attr('value') ?? '');
    const action = new URL(form.attr('action') ?? page.url, page.url).toString();
    return this.follow(action, { method: (form.attr('method') ?? 'GET').toUpperCase(), body }, options.stopAt);
  }
}

/** The text of an HTML page without tags, whitespace collapsed (for message assertions). */
export function textOf(html: string): string {
  return cheerio.load(html)('body').text().replace(/\s+/g, ' ').trim();
}
