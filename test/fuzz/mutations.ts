/**
 * The malformed requests the fuzz test sends to one route: NUL and other control characters in every field,
 * query and path parameter; unsupported charsets; bad `Content-Encoding`; too many parameters; a 1 MB body;
 * malformed percent-encoding in the path, the query and the body; wrong content types; JSON garbage.
 * Deterministic: the fields and characters chosen come from a seeded generator.
 */

/** One route to fuzz: its template, the values of its parameters, and the fields a valid request would send. */
export interface Target {
  method: string;
  /** Path template as Express or oidc-provider declares it, e.g. `/interaction/:uid/password`. */
  template: string;
  /** Valid values of the template's `:params` (and `*wildcards`). */
  params: Record<string, string>;
  /** Field name → a valid-looking value: the body of a POST, the query of a GET. */
  fields: Record<string, string>;
}

/** One request to send: a raw (already percent-encoded) path with its query, headers and body. */
export interface Probe {
  mutation: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A small seeded generator (mulberry32): the same seed gives the same mutations on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Control characters PostgreSQL or a page could trip on; tab, CR and LF are left out (textareas send them). */
const CONTROL = ['\u0001', '\u0002', '\u0007', '\u0008', '\u000b', '\u000c', '\u000e', '\u001b', '\u001f', '\u007f'];
/** Fields mutated one at a time per route (sampled when a route has more). */
const FIELDS_PER_ROUTE = 10;
const FORM = 'application/x-www-form-urlencoded';

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;
const encode = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** The template with each parameter replaced by its (encoded) value; `raw` values are inserted as they are. */
function fill(template: string, params: Record<string, string>, raw: Record<string, string> = {}): string {
  return template.replace(/[:*]([A-Za-z_]+)/g, (_, name: string) => raw[name] ?? encodeURIComponent(params[name] ?? 'x'));
}

/**
 * Every probe for `target`; `random` picks the sampled fields and characters. The `first` fields (those the
 * route is known to read) are always among the fields mutated one at a time.
 */
export function mutationsOf(target: Target, random: () => number, first: readonly string[] = []): Probe[] {
  const { method, template, params, fields } = target;
  const body = method !== 'GET' && method !== 'HEAD';
  const path = fill(template, params);
  const probes: Probe[] = [];
  /** A request with these fields in the body (POST) or the query (GET). */
  const withFields = (mutation: string, values: Record<string, string>, at = path) =>
    body
      ? probes.push({ mutation, method, path: at, headers: { 'content-type': FORM }, body: Buffer.from(encode(values)) })
      : probes.push({ mutation, method, path: Object.keys(values).length ? `${at}?${encode(values)}` : at, headers: {} });
  const raw = (mutation: string, contentType: string | undefined, bytes: Buffer | string, headers: Record<string, string> = {}) =>
    probes.push({ mutation, method, path, headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers }, body: Buffer.from(bytes) });

  withFields('baseline', fields);
  const names = Object.keys(fields);
  const rest = names.filter((n) => !first.includes(n));
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  const sampled = [...first.filter((n) => names.includes(n)), ...rest].slice(0, Math.max(FIELDS_PER_ROUTE, first.length));
  for (const name of sampled) withFields(`NUL in field ${name}`, { ...fields, [name]: `${fields[name]}\u0000x` });
  for (let i = 0; i < 3 && names.length; i++) {
    const name = pick(names, random);
    const char = pick(CONTROL, random);
    withFields(`U+${char.charCodeAt(0).toString(16).padStart(4, '0')} in field ${name}`, { ...fields, [name]: `a${char}b` });
  }
  withFields('NUL in every field', Object.fromEntries(names.map((n) => [n, `a\u0000b`])));
  withFields('NUL in an unknown parameter', { ...fields, ['fuzz\u0000name']: 'a\u0000b' });
  for (const name of Object.keys(params)) {
    withFields(`NUL in path parameter ${name}`, fields, fill(template, params, { [name]: `a%00b` }));
    withFields(`U+001B in path parameter ${name}`, fields, fill(template, params, { [name]: `a%1Bb` }));
    withFields(`%FF in path parameter ${name}`, fields, fill(template, params, { [name]: `a%FFb` }));
    withFields(`%zz in path parameter ${name}`, fields, fill(template, params, { [name]: `a%zzb` }));
  }
  withFields('%FF in the path', fields, `${path}%FF`);
  withFields('%zz in the path', fields, `${path}/%zz`);
  probes.push({ mutation: 'malformed percent-encoding in the query', method, path: `${path}?${encode(fields)}&fuzz=%FF&${names[0] ?? 'q'}=%zz%E0%A4`, headers: {} });
  probes.push({ mutation: 'NUL in the query', method, path: `${path}?${names[0] ?? 'q'}=a%00b&state=%00`, headers: {} });
  if (!body) return probes;

  const valid = encode(fields);
  raw('unsupported charset', `${FORM}; charset=x-fuzz-8`, valid);
  raw('unsupported charset (JSON)', 'application/json; charset=x-fuzz-8', JSON.stringify(fields));
  raw('gzip header with garbage', FORM, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from('not really gzip at all')]), { 'content-encoding': 'gzip' });
  raw('br with garbage', FORM, 'garbage that is no brotli stream', { 'content-encoding': 'br' });
  raw('unknown Content-Encoding', FORM, valid, { 'content-encoding': 'x-fuzz' });
  raw('more than 20 parameters', FORM, encode({ ...fields, ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`p${i}`, 'v'])) }));
  raw('a 1 MB body', FORM, `${valid}&pad=${'a'.repeat(1024 * 1024)}`);
  raw('malformed percent-encoding in the body', FORM, `${valid}&fuzz=%FF&${names[0] ?? 'q'}=%zz`);
  raw('NUL bytes raw in the body', FORM, `${names[0] ?? 'q'}=a\u0000b&${valid}`);
  raw('wrong content type (text/plain)', 'text/plain', valid);
  raw('wrong content type (multipart garbage)', 'multipart/form-data; boundary=fuzz', '--fuzz\r\ngarbage');
  raw('JSON garbage', 'application/json', '{"login": "a\u0000b", "password": [1,');
  raw('JSON with NUL escapes', 'application/json', JSON.stringify(Object.fromEntries(names.map((n) => [n, 'a\u0000b']))));
  raw('a body with no content type', undefined, valid);
  return probes;
}
