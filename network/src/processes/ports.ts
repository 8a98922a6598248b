import { readFileSync } from 'node:fs';
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

/**
 * One line per conflict. A port held by no listener this user can see, inside the range the
 * system takes outgoing connections' local ports from (`ephemeralPorts`), is most likely the
 * local end of some process's connection: the line says so and how to keep clear of it.
 */
export function describeConflicts(
  conflicts: readonly PortConflict[],
  ephemeralPorts: PortRange | undefined = systemEphemeralPorts(),
): string {
  return conflicts
    .map(({ assignment, ownerPid, ownerCommand }) => {
      const line =
        `port ${assignment.address}:${assignment.port} (${assignment.purpose} of ${assignment.owner}) is already in use by ` +
        (ownerPid === undefined ? ownerCommand : `PID ${ownerPid}: ${ownerCommand}`);
      const { low, high } = ephemeralPorts ?? { low: 0, high: -1 };
      if (ownerPid !== undefined || assignment.port < low || assignment.port > high) return line;
      return (
        `${line}; it lies in the range ${low}–${high} the system gives outgoing connections their local ` +
        `ports from, so another process's connection may hold it: choose a port shift (GIGLEDGER_PORT_OFFSET) ` +
        `that keeps every port of the network below ${low}`
      );
    })
    .join('\n');
}

export interface PortRange {
  readonly low: number;
  readonly high: number;
}

/** Linux's range for outgoing connections' local ports (`net.ipv4.ip_local_port_range`); undefined elsewhere. */
export function systemEphemeralPorts(): PortRange | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high)
      ? { low, high }
      : undefined;
  } catch {
    return undefined;
  }
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

/**
 * A warning for ports of the network inside the range the system gives outgoing
 * connections their local ports from: free now, such a port may be held for a while by any
 * process's connection, and a later start (or a restart of a stopped node) would then
 * find it taken.
 *
 * @returns undefined when every port lies outside that range, or the range is unknown.
 */
export function ephemeralRangeWarning(
  assignments: readonly Pick<PortAssignment, 'port'>[],
  ephemeralPorts: PortRange | undefined,
): string | undefined {
  if (ephemeralPorts === undefined) return undefined;
  const { low, high } = ephemeralPorts;
  const inside = assignments.map(({ port }) => port).filter((port) => port >= low && port <= high);
  if (inside.length === 0) return undefined;
  const shown = [...new Set(inside)].sort((a, b) => a - b);
  const which =
    shown.length === 1
      ? `the network's port ${String(shown[0])} lies`
      : `${String(shown.length)} of the network's ports (${String(shown[0])}–${String(shown.at(-1))}) lie`;
  return (
    `warning: ${which} in the ` +
    `range ${String(low)}–${String(high)} the system gives outgoing connections their local ports from, so ` +
    `another process's connection may hold one when a node starts; a port shift (GIGLEDGER_PORT_OFFSET) ` +
    `keeping every port below ${String(low)} avoids it`
  );
}
