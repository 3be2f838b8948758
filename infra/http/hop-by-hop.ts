// RFC 9110 §7.6.1: fields that describe one connection, not the message, so an intermediary never
// passes them on: the fixed hop-by-hop set, and whatever a message's own Connection field lists.
// One rule for both directions (the edge's forwarded requests and its replayed responses).

export const HOP_BY_HOP_FIELDS: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate',
]);

/** Field names a Connection header lists, lower-cased. */
export function connectionListed(connection: string | readonly string[] | undefined): ReadonlySet<string> {
  if (connection === undefined) return new Set();
  const text = typeof connection === 'string' ? connection : connection.join(',');
  return new Set(text.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));
}
