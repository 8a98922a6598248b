import net from 'node:net';
import type { PortAssignment } from '../config.js';
import { listeningPid, processCommandLine } from './proc.js';

export interface PortConflict {
  readonly assignment: PortAssignment;
  readonly ownerPid: number | undefined;
  readonly ownerCommand: string;
}

/** Whether `port` can be bound on `address` (127.0.0.1 unless given). */
export function isPortFree(port: number, address = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen({ port, host: address, exclusive: true }, () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** Ports of the assignment that something else already listens on, with who that is. */
export async function findPortConflicts(assignments: readonly PortAssignment[]): Promise<PortConflict[]> {
  const conflicts: PortConflict[] = [];
  for (const assignment of assignments) {
    if (await isPortFree(assignment.port, assignment.address)) continue;
    const ownerPid = listeningPid(assignment.port);
    conflicts.push({
      assignment,
      ownerPid,
      ownerCommand: ownerPid === undefined ? 'unknown (not visible to this user)' : processCommandLine(ownerPid),
    });
  }
  return conflicts;
}

export function describeConflicts(conflicts: readonly PortConflict[]): string {
  return conflicts
    .map(
      ({ assignment, ownerPid, ownerCommand }) =>
        `port ${assignment.address}:${assignment.port} (${assignment.purpose} of ${assignment.owner}) is already in use by ` +
        (ownerPid === undefined ? ownerCommand : `PID ${ownerPid}: ${ownerCommand}`),
    )
    .join('\n');
}

/**
 * A loopback port nothing listens on now, for a server whose address another process
 * must know before it starts (a payment provider calls the API back).
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}
