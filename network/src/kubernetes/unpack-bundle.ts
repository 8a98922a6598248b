import { unpackOrgBundle } from '../fabric/bundle.js';

/**
 * The first container of every pod in the Kubernetes manifests:
 * `node network/dist/kubernetes/unpack-bundle.js <Org> <bundle file>` unpacks the
 * organisation's bundle (mounted from its Secret) into GIGLEDGER_HOME, so each pod holds
 * its own organisation's material and nothing else. Exits 1 naming the refused entry.
 */
const [org, file] = process.argv.slice(2);
const home = process.env.GIGLEDGER_HOME;
try {
  if (org === undefined || file === undefined || home === undefined || home === '') {
    throw new Error('usage: GIGLEDGER_HOME=<dir> unpack-bundle.js <Org> <bundle file>');
  }
  const bundle = unpackOrgBundle(file, home, org);
  process.stdout.write(
    `Unpacked ${bundle.org}'s bundle (${bundle.files.length} files, exported ${bundle.exportedAt}) into ${home}\n`,
  );
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
