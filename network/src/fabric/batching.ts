import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { NetworkConfig } from '../config.js';
import type { Toolchain } from '../toolchain/toolchain.js';
import { buildUpdateEnvelope, fetchChannelConfig, type ChannelConfigJson } from './add-org.js';
import { channelUpdateArgs, ordererTlsFlags } from './channel.js';
import { ordererAdmin } from './layout.js';
import { runCommand } from './run-command.js';

/** How the orderers cut blocks: Fabric's `Orderer.BatchTimeout` and `Orderer.BatchSize`. */
export interface Batching {
  /** Longest wait for a block to fill, e.g. `250ms` or `1s`. */
  readonly batchTimeout: string;
  /** Most transactions in one block. */
  readonly maxMessageCount: number;
}

interface OrdererValues {
  BatchTimeout: { value: { timeout: string } };
  BatchSize: { value: { max_message_count: number } };
}

function ordererValues(channelConfig: ChannelConfigJson): OrdererValues {
  const groups = channelConfig.channel_group.groups as unknown as { Orderer: { values: OrdererValues } };
  return groups.Orderer.values;
}

/**
 * Changes how the running channel's orderers cut blocks, by a channel configuration update
 * signed by the orderer organisation's admin (the Orderer group's `Admins` policy). Peers
 * and orderers apply it with the block that carries it; nothing restarts.
 *
 * @returns the batching in force before the change.
 * @throws Error with the `peer` CLI's or configtxlator's own words when a step fails.
 */
export async function updateBatching(
  config: NetworkConfig,
  toolchain: Toolchain,
  batching: Batching,
): Promise<Batching> {
  const [org] = config.peerOrgs;
  const [orderer] = config.ordererOrg.orderers;
  if (org === undefined || orderer === undefined) throw new Error('the network has no peer organisation or orderer');
  const dir = mkdtempSync(path.join(config.paths.run, 'batching-'));
  try {
    const current = await fetchChannelConfig(config, toolchain, org, orderer, dir);
    const before = ordererValues(current);
    const updated = structuredClone(current);
    const values = ordererValues(updated);
    values.BatchTimeout.value.timeout = batching.batchTimeout;
    values.BatchSize.value.max_message_count = batching.maxMessageCount;
    const envelope = await buildUpdateEnvelope(config, toolchain, current, updated, dir);
    const admin = ordererAdmin(config);
    await runCommand(
      toolchain.bin('peer'),
      channelUpdateArgs(config, envelope, ordererTlsFlags(config, orderer, admin)),
      {
        env: {
          ...process.env,
          FABRIC_CFG_PATH: toolchain.configDir,
          FABRIC_LOGGING_SPEC: 'WARNING',
          CORE_PEER_LOCALMSPID: config.ordererOrg.mspId,
          CORE_PEER_MSPCONFIGPATH: admin.mspDir,
          CORE_PEER_TLS_ENABLED: 'true',
        },
      },
    );
    return {
      batchTimeout: before.BatchTimeout.value.timeout,
      maxMessageCount: before.BatchSize.value.max_message_count,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
