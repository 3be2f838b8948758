import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One structured logger per process. Level comes from STREAMEDGE_LOG_LEVEL (default info) so tests
 * and operators can quieten or deepen logs without a flag on every command.
 */
export function createLogger(service: string, id?: string): Logger {
  return pino({
    level: process.env.STREAMEDGE_LOG_LEVEL ?? 'info',
    base: { service, ...(id ? { id } : {}), pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
