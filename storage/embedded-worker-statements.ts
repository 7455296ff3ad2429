/**
 * Named prepared statements and portals per connection, on a database that has one session for all of them.
 *
 * PostgreSQL keeps prepared statements per session; PGlite has one session, shared by every socket
 * connection. `pg` names a statement per client (`query({ name, text })`, which rate-limiter-flexible and
 * prepared hot queries use) and prepares it once per connection: the second connection's `Parse` of the same
 * name then fails with `prepared statement "…" already exists` (SQLSTATE 42P05). So the socket queue
 * (storage/socket-session-queue.ts) gives every non-empty statement and portal name a per-connection prefix in
 * the frontend messages that carry one (PostgreSQL protocol §55.7: Parse, Bind, Describe, Close, Execute) —
 * answers carry no names — and closes a connection's statements when it ends.
 *
 * Not covered: SQL-level `PREPARE`/`EXECUTE`/`DEALLOCATE`, and other session state (`SET` without `LOCAL`),
 * which all connections share; connect-iam uses neither.
 */

const PARSE = 0x50;
const BIND = 0x42;
const DESCRIBE = 0x44;
const CLOSE = 0x43;
const EXECUTE = 0x45;

/** Reads the NUL-terminated string at `offset`; returns it and the offset after its NUL. */
function cString(message: Buffer, offset: number): [string, number] {
  const end = message.indexOf(0, offset);
  if (end < 0) throw new Error('malformed frontend message: unterminated string');
  return [message.toString('utf8', offset, end), end + 1];
}

/** The message with the string at `[start, end)` (NUL excluded) replaced by `name`, its length field updated. */
function withName(message: Buffer, start: number, end: number, name: string): Buffer {
  const body = Buffer.concat([message.subarray(5, start), Buffer.from(name, 'utf8'), message.subarray(end)]);
  const head = Buffer.alloc(5);
  head[0] = message[0]!;
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

/** `prefix` + `name`, or the unnamed statement or portal as it is. */
const scoped = (prefix: string, name: string) => (name === '' ? '' : `${prefix}${name}`);

/**
 * One frontend message with its statement and portal names scoped by `prefix` (e.g. `c12:`).
 * @returns the message (the same bytes when it names nothing) and the scoped statement name a Parse creates.
 * @throws Error on a message too short for its type.
 */
export function scopeNames(message: Uint8Array, prefix: string): { message: Uint8Array; prepared?: string } {
  const type = message[0];
  if (type !== PARSE && type !== BIND && type !== DESCRIBE && type !== CLOSE && type !== EXECUTE) return { message };
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (type === PARSE || type === EXECUTE) {
    const [name, after] = cString(bytes, 5);
    if (name === '') return { message };
    const renamed = scoped(prefix, name);
    return { message: withName(bytes, 5, after - 1, renamed), ...(type === PARSE ? { prepared: renamed } : {}) };
  }
  if (type === BIND) {
    const [portal, afterPortal] = cString(bytes, 5);
    const [statement, afterStatement] = cString(bytes, afterPortal);
    if (portal === '' && statement === '') return { message };
    const body = Buffer.concat([Buffer.from(`${scoped(prefix, portal)}\0${scoped(prefix, statement)}\0`, 'utf8'), bytes.subarray(afterStatement)]);
    const head = Buffer.alloc(5);
    head[0] = BIND;
    head.writeInt32BE(4 + body.length, 1);
    return { message: Buffer.concat([head, body]) };
  }
  // Describe or Close: a kind byte ('S' statement, 'P' portal), then the name.
  const [name, after] = cString(bytes, 6);
  if (name === '') return { message };
  return { message: withName(bytes, 6, after - 1, scoped(prefix, name)) };
}

/** Close ('C', 'S') messages for `names` (already scoped), then a Sync: what ends a connection's statements (closing one that is gone is no error). */
export function closeStatements(names: Iterable<string>): Uint8Array {
  const messages: Buffer[] = [];
  for (const name of names) {
    const body = Buffer.from(`S${name}\0`, 'utf8');
    const head = Buffer.alloc(5);
    head[0] = CLOSE;
    head.writeInt32BE(4 + body.length, 1);
    messages.push(head, body);
  }
  messages.push(Buffer.from([0x53, 0, 0, 0, 4]));
  return Buffer.concat(messages);
}
