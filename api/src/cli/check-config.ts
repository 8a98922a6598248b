#!/usr/bin/env node
import { parseApiConfig } from '../config.js';
import { runToExitCode } from './exit-code.js';

/*
 * Checks the API's settings in this environment as the server reads them when it starts,
 * without starting it: `npm start` runs it before it starts the network, so a refused
 * setting is said in a second rather than after the network's half minute.
 *
 *     PORT=4000 AUTH_FAILURES_PER_ADDRESS=5 node api/dist/cli/check-config.js
 *
 * Exits 0 when every setting holds; otherwise prints the variable and the reason
 * (`environment variable <NAME>: <reason>`) on stderr and exits 2.
 */
runToExitCode(() =>
  Promise.resolve().then(() => {
    parseApiConfig(process.env);
    return 0;
  }),
);
