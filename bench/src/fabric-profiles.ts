import { execFile } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { profilingPort, type NetworkConfig } from '@gigledger/network';

const run = promisify(execFile);

/** A peer or orderer whose Go profiler the benchmark can ask. */
interface ProfiledNode {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

function profiledNodes(config: NetworkConfig): ProfiledNode[] {
  return [
    ...config.peerOrgs.map((org) => ({
      name: `${org.peer.name}.${org.name}`,
      address: org.address,
      port: profilingPort(org.peer.operationsPort),
    })),
    ...config.ordererOrg.orderers.map((node) => ({
      name: node.name,
      address: node.address,
      port: profilingPort(node.operationsPort),
    })),
  ];
}

/**
 * Go CPU profiles of every peer and orderer, one per benchmark level, written to
 * `<dir>/<level>/<node>.pb.gz` from the nodes' pprof endpoints (the network must run
 * with GIGLEDGER_FABRIC_PROFILING=1). {@link FabricProfiles.during} starts the profiles
 * as a level starts; {@link FabricProfiles.top} summarises a level's profiles with
 * `go tool pprof -top`, the functions that spent most CPU first.
 */
export class FabricProfiles {
  readonly #dir: string;
  readonly #nodes: readonly ProfiledNode[];
  readonly #levels = new Map<string, Promise<{ node: string; file: string | undefined; error?: string }[]>>();

  constructor(config: NetworkConfig, dir: string) {
    this.#dir = dir;
    this.#nodes = profiledNodes(config);
  }

  /** Profiles every node for `seconds` from now, under the name `level`. */
  during(level: string, seconds: number): void {
    const folder = path.join(this.#dir, level.replace(/[^A-Za-z0-9.-]+/g, '-'));
    mkdirSync(folder, { recursive: true });
    this.#levels.set(
      level,
      Promise.all(
        this.#nodes.map(async (node) => {
          const file = path.join(folder, `${node.name}.pb.gz`);
          try {
            await download(`http://${node.address}:${node.port}/debug/pprof/profile?seconds=${seconds}`, file);
            return { node: node.name, file };
          } catch (error) {
            return { node: node.name, file: undefined, error: error instanceof Error ? error.message : String(error) };
          }
        }),
      ),
    );
  }

  /** For each node of `level`, the `lines` functions with the most CPU of their own. */
  async top(level: string, lines = 8): Promise<string> {
    const profiles = (await this.#levels.get(level)) ?? [];
    const parts: string[] = [];
    for (const profile of profiles) {
      if (profile.file === undefined) {
        parts.push(`${profile.node}: no profile (${profile.error ?? 'unknown'})`);
        continue;
      }
      const { stdout } = await run('go', ['tool', 'pprof', '-top', `-nodecount=${lines}`, profile.file], {
        maxBuffer: 4 * 1024 * 1024,
      }).catch((error: unknown) => ({ stdout: `go tool pprof failed: ${String(error)}` }));
      parts.push(`${profile.node} (${profile.file}):\n${stdout.trimEnd()}`);
    }
    return parts.join('\n');
  }
}

function download(url: string, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`${url} answered ${response.statusCode}`));
          return;
        }
        pipeline(response, createWriteStream(file)).then(resolve, reject);
      })
      .on('error', reject);
  });
}
