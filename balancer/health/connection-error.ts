// Which connection failures mean "this edge is down". Fetching, proxying and probing all ask it,
// and passive health names its ejections after it, so it sits below both.

/** A way a connection to an edge failed; each ejects the edge at once. */
export type ConnectionFailure = 'connect-refused' | 'connect-timeout' | 'response-timeout' | 'connection-reset';

/**
 * The connection failure behind `error`, or undefined when the edge answered. Everything that is
 * not a connection failure (a 5xx, a malformed body) is retried elsewhere but does not eject.
 */
export function classifyConnectionError(error: unknown): ConnectionFailure | undefined {
  const code = (error as { code?: string } | undefined)?.code ?? (error as { cause?: { code?: string } } | undefined)?.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'connect-refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'connect-timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'ESOCKETTIMEDOUT':
      return 'response-timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'connection-reset';
    default:
      return (error as Error | undefined)?.name === 'TimeoutError' ? 'response-timeout' : undefined;
  }
}
