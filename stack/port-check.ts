import { createServer } from 'node:net';

export interface PortClaim {
  readonly port: number;
  readonly service: string;
}

export class PortInUseError extends Error {
  constructor(readonly claim: PortClaim, host: string) {
    super(`port ${claim.port} (${claim.service}) on ${host} is already in use; stop whatever holds it or choose other ports`);
    this.name = 'PortInUseError';
  }
}

function probe(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Checks every fixed port before anything starts, so a clash names the port and its service. */
export async function assertPortsFree(claims: readonly PortClaim[], host = '127.0.0.1'): Promise<void> {
  const seen = new Map<number, string>();
  for (const claim of claims) {
    const other = seen.get(claim.port);
    if (other) throw new Error(`port ${claim.port} is assigned to both ${other} and ${claim.service}`);
    seen.set(claim.port, claim.service);
  }
  for (const claim of claims) {
    if (!(await probe(claim.port, host))) throw new PortInUseError(claim, host);
  }
}
