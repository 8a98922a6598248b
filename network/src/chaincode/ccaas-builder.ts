/**
 * External builder for chaincode-as-a-service packages, run by the peer as
 * `<builder>/bin/{detect,build,release}`. A ccaas package carries no code, only
 * connection.json telling the peer where the chaincode server listens, so building
 * is checking and copying that file.
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const connectionFile = 'connection.json';

function detect(metadataDir: string): boolean {
  const metadata = JSON.parse(readFileSync(path.join(metadataDir, 'metadata.json'), 'utf8')) as { type?: string };
  return metadata.type?.toLowerCase() === 'ccaas';
}

function build(sourceDir: string, outputDir: string): void {
  const source = path.join(sourceDir, connectionFile);
  if (!existsSync(source)) throw new Error(`${connectionFile} is missing from the chaincode package`);
  const connection = JSON.parse(readFileSync(source, 'utf8')) as { address?: unknown };
  if (typeof connection.address !== 'string' || !/^[^:]+:\d+$/.test(connection.address)) {
    throw new Error(`${connectionFile} needs an address of the form host:port`);
  }
  mkdirSync(outputDir, { recursive: true });
  cpSync(source, path.join(outputDir, connectionFile));
  const indexes = path.join(sourceDir, 'META-INF');
  if (existsSync(indexes)) cpSync(indexes, path.join(outputDir, 'META-INF'), { recursive: true });
}

function release(buildDir: string, releaseDir: string): void {
  const serverDir = path.join(releaseDir, 'chaincode', 'server');
  mkdirSync(serverDir, { recursive: true });
  cpSync(path.join(buildDir, connectionFile), path.join(serverDir, connectionFile));
  const couchIndexes = path.join(buildDir, 'META-INF', 'statedb', 'couchdb');
  if (existsSync(couchIndexes)) {
    cpSync(couchIndexes, path.join(releaseDir, 'statedb', 'couchdb'), { recursive: true });
  }
}

function main(argv: string[]): number {
  const [phase, first, second, third] = argv;
  try {
    switch (phase) {
      case 'detect':
        return second !== undefined && detect(second) ? 0 : 1;
      case 'build':
        if (first === undefined || third === undefined) throw new Error('usage: build SOURCE METADATA OUTPUT');
        build(first, third);
        return 0;
      case 'release':
        if (first === undefined || second === undefined) throw new Error('usage: release BUILD RELEASE');
        release(first, second);
        return 0;
      default:
        throw new Error(`unknown phase ${phase ?? '(none)'}; expected detect, build or release`);
    }
  } catch (error) {
    process.stderr.write(`ccaas builder: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
