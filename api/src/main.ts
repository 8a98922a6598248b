import { untilStopSignal } from '@gigledger/gateway';
import { runApiCluster } from './cluster/api-cluster.js';
import { parseApiConfig } from './config.js';
import { startApiServer } from './server.js';

const config = parseApiConfig(process.env);
if (config.workers > 1) {
  await runApiCluster(config, process.env.GIGLEDGER_WALLET_KEY);
} else {
  const running = await startApiServer(config, process.env.GIGLEDGER_WALLET_KEY);

  const signal = await untilStopSignal((repeated) => {
    running.deps.log.info(`${repeated} received; already closing`);
  });
  running.deps.log.info(`${signal} received; closing`);
  running.close().then(
    () => process.exit(0),
    (error: unknown) => {
      running.deps.log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
}
