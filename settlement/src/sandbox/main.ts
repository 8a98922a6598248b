import { untilStopSignal } from '@gigledger/gateway';
import { parseSandboxConfig } from './sandbox-config.js';
import { startSandboxProvider } from './sandbox-provider.js';

const log = (line: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
};

const sandbox = await startSandboxProvider({ ...parseSandboxConfig(process.env), log });
process.stdout.write(`sandbox provider listening on ${sandbox.url}\n`);

const signal = await untilStopSignal((repeated) => {
  log(`${repeated} received; already closing`);
});
log(`${signal} received; closing`);
sandbox.close().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
