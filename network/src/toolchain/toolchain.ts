import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * The pinned Fabric release. Fabric's module path has no major-version suffix, so its
 * v3 tags are not Go versions: the proxy serves the release commit as a pseudo-version.
 */
export const fabricPin = {
  release: '3.1.0',
  module: 'github.com/hyperledger/fabric',
  commit: '8f08391d840c1b105c6b62e8917687e81937695e',
  moduleVersion: 'v1.4.0-rc1.0.20250318174348-8f08391d840c',
  commands: ['peer', 'orderer', 'configtxgen', 'configtxlator', 'cryptogen', 'osnadmin'],
} as const;

/** A change to a pinned module's source, applied to a copy of it before the build. */
export interface SourcePatch {
  /** Named in the toolchain's folder and manifest, so that a build without it is never taken for one with it. */
  readonly name: string;
  readonly files: readonly {
    /** Path inside the module. */
    readonly file: string;
    /** Each a text that must occur exactly once in the file (as earlier edits left it), and what replaces it. */
    readonly edits: readonly { readonly find: string; readonly replace: string }[];
  }[];
}

/**
 * Changes the pinned Fabric release needs until upstream makes them (none is in a release
 * up to 3.1.5, nor on main in December 2026).
 *
 * For the first two, a client of any member organisation can submit, through any peer's
 * Gateway, an endorser transaction with no action, or whose ChaincodeActionPayload has no
 * `action`, or whose parts do not decode; the orderers order it, and every peer validating
 * the block stops at it, again at the same block on every restart: the whole network
 * stops for good.
 *
 * - `nil-chaincode-action`: the transaction's own validation (`validateEndorserTransaction`)
 *   dereferenced the missing action and panicked; patched, the transaction is refused like
 *   any other malformed one (marked invalid).
 * - `key-level-malformed-transaction`: the key-level (state-based) endorsement check of any
 *   later transaction of the same block reads the writes of every earlier transaction of
 *   the block, invalid ones included (`extractDependenciesForTx`). It panicked on a
 *   missing action, and on a transaction that does not decode it returned without saying
 *   it had none, so the later transaction waited for it for ever. Patched, such a
 *   transaction counts as writing no key-level policy, however it returns.
 * - `key-level-unvalidated-transaction`: that check waits for the validation result of
 *   every earlier transaction of the block that writes a key-level policy on a key it
 *   touches, but a transaction refused before the validation plugins run (a duplicate of
 *   one already on the ledger, a bad signature, a chaincode event of another chaincode,
 *   a second namespace after the first failed) never gets one: the later transaction
 *   waited for ever, on every peer, again at the same block on every restart. A
 *   transaction sent for ordering twice (a client or gateway resending after a lost
 *   answer) is enough. Patched, such a transaction gets a failed result in each
 *   namespace where it writes key-level policies before the block's validation goes on,
 *   and the later transaction takes the policy on the ledger.
 */
export const fabricPatches: readonly SourcePatch[] = [
  {
    name: 'nil-chaincode-action',
    files: [
      {
        file: 'core/common/validation/msgvalidation.go',
        edits: [
          {
            find: `		// extract the proposal response payload
		prp, err := protoutil.UnmarshalProposalResponsePayload(ccActionPayload.Action.ProposalResponsePayload)`,
            replace: `		if ccActionPayload.Action == nil {
			return errors.New("the chaincode action payload carries no endorsed action")
		}

		// extract the proposal response payload
		prp, err := protoutil.UnmarshalProposalResponsePayload(ccActionPayload.Action.ProposalResponsePayload)`,
          },
        ],
      },
    ],
  },
  {
    name: 'key-level-malformed-transaction',
    files: [
      {
        file: 'core/common/validation/statebased/validator_keylevel.go',
        edits: [
          {
            // Whatever way it returns, the transaction has introduced its dependencies (none, for one that does not decode).
            find: `func (klv *KeyLevelValidator) extractDependenciesForTx(blockNum, txNum uint64, envelopeBytes []byte) {
	env, err := protoutil.GetEnvelopeFromBlock(envelopeBytes)`,
            replace: `func (klv *KeyLevelValidator) extractDependenciesForTx(blockNum, txNum uint64, envelopeBytes []byte) {
	extracted := false
	defer func() {
		if !extracted {
			klv.vpmgr.ExtractValidationParameterDependency(blockNum, txNum, nil)
		}
	}()

	env, err := protoutil.GetEnvelopeFromBlock(envelopeBytes)`,
          },
          {
            find: `	cap, err := protoutil.UnmarshalChaincodeActionPayload(tx.Actions[0].Payload)`,
            replace: `	if len(tx.Actions) == 0 {
		logger.Warningf("transaction has no action, skipping tx at height (%d,%d)", blockNum, txNum)
		return
	}

	cap, err := protoutil.UnmarshalChaincodeActionPayload(tx.Actions[0].Payload)`,
          },
          {
            find: `	pRespPayload, err := protoutil.UnmarshalProposalResponsePayload(cap.Action.ProposalResponsePayload)`,
            replace: `	if cap.Action == nil {
		logger.Warningf("chaincode action payload carries no endorsed action, skipping tx at height (%d,%d)", blockNum, txNum)
		return
	}

	pRespPayload, err := protoutil.UnmarshalProposalResponsePayload(cap.Action.ProposalResponsePayload)`,
          },
          {
            find: `	klv.vpmgr.ExtractValidationParameterDependency(blockNum, txNum, respPayload.Results)
}`,
            replace: `	extracted = true
	klv.vpmgr.ExtractValidationParameterDependency(blockNum, txNum, respPayload.Results)
}`,
          },
        ],
      },
    ],
  },
  {
    name: 'key-level-unvalidated-transaction',
    files: [
      {
        // Results for the transactions the validation plugins never saw, given before the block's validation ends.
        file: 'core/committer/txvalidator/v20/validator.go',
        edits: [
          {
            find: `				v.validateTx(&blockValidationRequest{
					d:     data,
					block: block,
					tIdx:  index,
				}, results)`,
            replace: `				txResult := make(chan *blockValidationResult, 1)
				v.validateTx(&blockValidationRequest{
					d:     data,
					block: block,
					tIdx:  index,
				}, txResult)
				result := <-txResult
				if result.err == nil && result.validationCode != peer.TxValidationCode_VALID {
					if releaser, ok := v.Dispatcher.(keyLevelDependencyReleaser); ok {
						releaser.ReleaseKeyLevelDependencies(index, data, block)
					}
				}
				results <- result`,
          },
          {
            find: `func markTXIdDuplicates(txids []string, txsfltr txflags.ValidationFlags) {`,
            replace: `// keyLevelDependencyReleaser gives a transaction refused before its validation plugins ran
// (a duplicate, a bad signature, a chaincode event of another chaincode) a validation
// result in each namespace where it writes key-level validation parameters: the key-level
// check of every later transaction of the block touching those keys waits for one.
type keyLevelDependencyReleaser interface {
	ReleaseKeyLevelDependencies(seq int, envBytes []byte, block *common.Block)
}

func markTXIdDuplicates(txids []string, txsfltr txflags.ValidationFlags) {`,
          },
        ],
      },
      {
        file: 'core/committer/txvalidator/v20/plugindispatcher/dispatcher.go',
        edits: [
          {
            find: `func (v *dispatcherImpl) invokeValidationPlugin(ctx *Context) error {`,
            replace: `// ReleaseKeyLevelDependencies passes to the validation plugin of each namespace in which
// the transaction writes key-level validation parameters that the transaction has no
// validation result there unless it has one. The transaction is decoded as the key-level
// validator decodes it to find those writes.
func (v *dispatcherImpl) ReleaseKeyLevelDependencies(seq int, envBytes []byte, block *common.Block) {
	env, err := protoutil.GetEnvelopeFromBlock(envBytes)
	if err != nil {
		return
	}
	payl, err := protoutil.UnmarshalPayload(env.Payload)
	if err != nil {
		return
	}
	tx, err := protoutil.UnmarshalTransaction(payl.Data)
	if err != nil || len(tx.Actions) == 0 {
		return
	}
	cap, err := protoutil.UnmarshalChaincodeActionPayload(tx.Actions[0].Payload)
	if err != nil || cap.Action == nil {
		return
	}
	pRespPayload, err := protoutil.UnmarshalProposalResponsePayload(cap.Action.ProposalResponsePayload)
	if err != nil {
		return
	}
	respPayload, err := protoutil.UnmarshalChaincodeAction(pRespPayload.Extension)
	if err != nil {
		return
	}
	txRWSet := &rwsetutil.TxRwSet{}
	if err := txRWSet.FromProtoBytes(respPayload.Results); err != nil {
		return
	}
	for _, ns := range txRWSet.NsRwSets {
		writesValidationParameters := len(ns.KvRwSet.GetMetadataWrites()) > 0
		for _, coll := range ns.CollHashedRwSets {
			writesValidationParameters = writesValidationParameters || len(coll.HashedRwSet.GetMetadataWrites()) > 0
		}
		if !writesValidationParameters {
			continue
		}
		// A namespace without a usable definition fails every transaction of the block that
		// writes in it before its plugin runs, so none of them waits there.
		plugin, _, err := v.getCDataForCC(v.chainID, ns.NameSpace)
		if err != nil {
			logger.Warningf("[%s] no validation plugin to release transaction %d of block %d in namespace %s: %s", v.chainID, seq, block.Header.Number, ns.NameSpace, err)
			continue
		}
		v.pluginValidator.ReleaseWithPlugin(&Context{
			Seq:        seq,
			Envelope:   envBytes,
			Block:      block,
			Channel:    v.chainID,
			Namespace:  ns.NameSpace,
			PluginName: plugin,
		})
	}
}

func (v *dispatcherImpl) invokeValidationPlugin(ctx *Context) error {`,
          },
        ],
      },
      {
        file: 'core/committer/txvalidator/v20/plugindispatcher/plugin_validator.go',
        edits: [
          {
            find: `func (pv *PluginValidator) getOrCreatePlugin(ctx *Context) (validation.Plugin, error) {`,
            replace: `// ReleaseWithPlugin tells the plugin of ctx, when it keeps key-level validation dependencies,
// that the transaction at ctx.Seq has no validation result in ctx.Namespace unless it has one.
func (pv *PluginValidator) ReleaseWithPlugin(ctx *Context) {
	plugin, err := pv.getOrCreatePlugin(ctx)
	if err != nil {
		return
	}
	if releaser, ok := plugin.(interface {
		ReleaseTx(block *common.Block, namespace string, txPosition int)
	}); ok {
		releaser.ReleaseTx(ctx.Block, ctx.Namespace, ctx.Seq)
	}
}

func (pv *PluginValidator) getOrCreatePlugin(ctx *Context) (validation.Plugin, error) {`,
          },
        ],
      },
      {
        file: 'core/handlers/validation/builtin/default_validation.go',
        edits: [
          {
            find: `func convertErrorTypeOrPanic(err error) error {`,
            replace: `// ReleaseTx records, for the key-level validation of the block's later transactions, that
// the transaction at txPosition has no validation result in namespace unless it has one.
func (v *DefaultValidation) ReleaseTx(block *common.Block, namespace string, txPosition int) {
	if !v.Capabilities.V2_0Validation() {
		return
	}
	if releaser, ok := v.TxValidatorV2_0.(interface {
		ReleaseTx(block *common.Block, namespace string, txPosition int)
	}); ok {
		releaser.ReleaseTx(block, namespace, txPosition)
	}
}

func convertErrorTypeOrPanic(err error) error {`,
          },
        ],
      },
      {
        file: 'core/handlers/validation/builtin/v20/validation_logic.go',
        edits: [
          {
            find: `func (vscc *Validator) extractValidationArtifacts(`,
            replace: `// ReleaseTx records that the transaction at txPosition has no validation result in
// namespace unless it has one.
func (vscc *Validator) ReleaseTx(block *common.Block, namespace string, txPosition int) {
	if releaser, ok := vscc.stateBasedValidator.(interface {
		ReleaseTx(namespace string, blockNum, txNum uint64)
	}); ok {
		releaser.ReleaseTx(namespace, block.Header.Number, uint64(txPosition))
	}
}

func (vscc *Validator) extractValidationArtifacts(`,
          },
        ],
      },
      {
        file: 'core/common/validation/statebased/vpmanagerimpl.go',
        edits: [
          {
            find: `func (d *txDependency) signalValidationResult(ns string, err error) {`,
            replace: `// ReleaseTx records that the transaction was not validated in namespace, unless it has a
// result there: the transactions after it that wait for it take the ledger's policy.
func (klv *KeyLevelValidator) ReleaseTx(namespace string, blockNum, txNum uint64) {
	if m, ok := klv.vpmgr.(*KeyLevelValidationParameterManagerImpl); ok {
		m.validationCtx.forBlock(blockNum).getOrCreateDependencyByTxnum(txNum).signalValidationResultIfAbsent(
			namespace, errors.Errorf("transaction (%d,%d) was refused before its validation in namespace %s", blockNum, txNum, namespace))
	}
}

func (d *txDependency) signalValidationResultIfAbsent(ns string, err error) {
	d.mutex.Lock()
	defer d.mutex.Unlock()

	if _, ok := d.validationResultMap[ns]; ok {
		return
	}
	d.validationResultMap[ns] = err
	d.cond.Broadcast()
}

func (d *txDependency) signalValidationResult(ns string, err error) {`,
          },
        ],
      },
    ],
  },
];

export const fabricCaPin = {
  release: '1.5.21',
  module: 'github.com/hyperledger/fabric-ca',
  moduleVersion: 'v1.5.21',
  commands: ['fabric-ca-server', 'fabric-ca-client'],
} as const;

export type FabricCommand = (typeof fabricPin.commands)[number] | (typeof fabricCaPin.commands)[number];

export interface Toolchain {
  readonly dir: string;
  readonly binDir: string;
  /** Holds core.yaml and orderer.yaml taken from the pinned Fabric module's sampleconfig. */
  readonly configDir: string;
  bin(command: FabricCommand): string;
}

const patchNames = fabricPatches.map((patch) => patch.name);
const pinKey = `fabric-${fabricPin.release}${patchNames.map((name) => `+${name}`).join('')}-ca-${fabricCaPin.release}`;

/**
 * Where the binaries live: GIGLEDGER_TOOLCHAIN, or a folder in the user's cache outside
 * any clone, so that fresh clones and CI runs on the same machine build only once.
 */
export function toolchainDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GIGLEDGER_TOOLCHAIN) return path.resolve(env.GIGLEDGER_TOOLCHAIN);
  const cacheRoot = env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(cacheRoot, 'gigledger', 'toolchain', pinKey);
}

export function toolchainAt(dir: string): Toolchain {
  const binDir = path.join(dir, 'bin');
  return {
    dir,
    binDir,
    configDir: path.join(dir, 'config'),
    bin: (command) => path.join(binDir, command),
  };
}

interface InstalledManifest {
  readonly pinKey: string;
  readonly fabricModuleVersion: string;
  readonly fabricCaModuleVersion: string;
  /** Names of the `fabricPatches` the build applied. */
  readonly fabricPatches?: readonly string[];
}

/** True when every pinned binary and the sample configuration are present for these pins. */
export function isToolchainInstalled(toolchain: Toolchain): boolean {
  const manifestFile = path.join(toolchain.dir, 'toolchain.json');
  if (!existsSync(manifestFile)) return false;
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Partial<InstalledManifest>;
  if (
    manifest.fabricModuleVersion !== fabricPin.moduleVersion ||
    manifest.fabricCaModuleVersion !== fabricCaPin.moduleVersion ||
    JSON.stringify(manifest.fabricPatches ?? []) !== JSON.stringify(patchNames)
  ) {
    return false;
  }
  const commands: FabricCommand[] = [...fabricPin.commands, ...fabricCaPin.commands];
  return (
    commands.every((command) => existsSync(toolchain.bin(command))) &&
    ['core.yaml', 'orderer.yaml'].every((file) => existsSync(path.join(toolchain.configDir, file)))
  );
}

export type ProgressReporter = (line: string) => void;

/**
 * Builds the pinned Fabric and Fabric CA commands from the Go module proxy, unless
 * they are already installed.
 *
 * `go install module@version` would also ask the proxy for the module's version list
 * (to report deprecation), which the proxy may refuse; building inside a small module
 * that requires the pinned version asks only for that version.
 *
 * @throws Error with the failing go command and its output.
 */
export async function ensureToolchain(
  report: ProgressReporter,
  dir = toolchainDir(),
): Promise<{ toolchain: Toolchain; built: boolean; seconds: number }> {
  const toolchain = toolchainAt(dir);
  if (isToolchainInstalled(toolchain)) return { toolchain, built: false, seconds: 0 };

  // Clones on one machine share this folder: one builds while the others wait for it,
  // rather than building into (and then removing) the same build folders at once.
  mkdirSync(dir, { recursive: true });
  const lockOptions = { lockfilePath: `${dir}.lock`, stale: 60_000, update: 10_000 };
  const release = await lockfile.lock(dir, lockOptions).catch(async (error: unknown) => {
    if ((error as { code?: string }).code !== 'ELOCKED') throw error;
    report(`Another process is building the Fabric toolchain into ${dir}; waiting for it`);
    return lockfile.lock(dir, { ...lockOptions, retries: { retries: 720, minTimeout: 5_000, maxTimeout: 5_000 } });
  });
  try {
    if (isToolchainInstalled(toolchain)) return { toolchain, built: false, seconds: 0 };
    return await buildToolchain(toolchain, dir, report);
  } finally {
    await release();
  }
}

async function buildToolchain(
  toolchain: Toolchain,
  dir: string,
  report: ProgressReporter,
): Promise<{ toolchain: Toolchain; built: boolean; seconds: number }> {
  const started = Date.now();
  await requireGo();
  mkdirSync(toolchain.binDir, { recursive: true });
  mkdirSync(toolchain.configDir, { recursive: true });

  report(`Building Hyperledger Fabric ${fabricPin.release} (${fabricPin.moduleVersion}) into ${toolchain.binDir}`);
  const fabricModuleDir = await buildModule(toolchain, report, {
    buildDir: path.join(dir, 'build', 'fabric'),
    module: fabricPin.module,
    moduleVersion: fabricPin.moduleVersion,
    commands: fabricPin.commands.map((command) => `${fabricPin.module}/cmd/${command}`),
    ldflags: [
      `-X ${fabricPin.module}/common/metadata.Version=${fabricPin.release}`,
      `-X ${fabricPin.module}/common/metadata.CommitSHA=${fabricPin.commit.slice(0, 7)}`,
    ],
    cgo: false,
    patches: fabricPatches,
  });

  report(`Building Hyperledger Fabric CA ${fabricCaPin.release} into ${toolchain.binDir}`);
  await buildModule(toolchain, report, {
    buildDir: path.join(dir, 'build', 'fabric-ca'),
    module: fabricCaPin.module,
    moduleVersion: fabricCaPin.moduleVersion,
    commands: fabricCaPin.commands.map((command) => `${fabricCaPin.module}/cmd/${command}`),
    ldflags: [`-X ${fabricCaPin.module}/lib/metadata.Version=${fabricCaPin.release}`],
    // The CA's default SQLite database needs cgo.
    cgo: true,
  });

  for (const file of ['core.yaml', 'orderer.yaml']) {
    copyFileSync(path.join(fabricModuleDir, 'sampleconfig', file), path.join(toolchain.configDir, file));
  }
  const manifest: InstalledManifest = {
    pinKey,
    fabricModuleVersion: fabricPin.moduleVersion,
    fabricCaModuleVersion: fabricCaPin.moduleVersion,
    fabricPatches: patchNames,
  };
  writeFileSync(path.join(dir, 'toolchain.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  rmSync(path.join(dir, 'build'), { recursive: true, force: true });
  const seconds = Math.round((Date.now() - started) / 1000);
  report(`Fabric toolchain ready in ${seconds}s`);
  return { toolchain, built: true, seconds };
}

interface ModuleBuild {
  readonly buildDir: string;
  readonly module: string;
  readonly moduleVersion: string;
  readonly commands: readonly string[];
  readonly ldflags: readonly string[];
  readonly cgo: boolean;
  /** Applied to a copy of the module's source, which the build then uses in its place. */
  readonly patches?: readonly SourcePatch[];
}

/**
 * Copies a module's source out of the read-only module cache into `target` and applies
 * `patches` there.
 *
 * @throws Error naming the patch whose text does not occur exactly once (the pin moved).
 */
function patchedSource(sourceDir: string, target: string, patches: readonly SourcePatch[]): void {
  cpSync(sourceDir, target, { recursive: true });
  for (const patch of patches) {
    for (const change of patch.files) {
      const file = path.join(target, change.file);
      let text = readFileSync(file, 'utf8');
      for (const edit of change.edits) {
        const occurrences = text.split(edit.find).length - 1;
        if (occurrences !== 1)
          throw new Error(
            `source patch ${patch.name} does not apply to ${change.file}: a text it changes occurs ${occurrences} times`,
          );
        // A function replacement, so that `$` in Go source is never read as a pattern.
        text = text.replace(edit.find, () => edit.replace);
      }
      chmodSync(file, 0o644);
      writeFileSync(file, text);
    }
  }
}

/** Returns the source directory it built from: the module cache's, or the patched copy. */
async function buildModule(toolchain: Toolchain, report: ProgressReporter, build: ModuleBuild): Promise<string> {
  rmSync(build.buildDir, { recursive: true, force: true });
  mkdirSync(build.buildDir, { recursive: true });
  const moduleName = `gigledger.local/toolchain/${path.basename(build.buildDir)}`;
  writeFileSync(
    path.join(build.buildDir, 'go.mod'),
    `module ${moduleName}\n\ngo 1.25\n\nrequire ${build.module} ${build.moduleVersion}\n`,
  );
  // A build-tagged file that imports the commands lets `go mod tidy` record exactly
  // the dependencies they need, without compiling anything into this module.
  writeFileSync(
    path.join(build.buildDir, 'commands.go'),
    `//go:build toolchain\n\npackage toolchain\n\nimport (\n${build.commands.map((command) => `\t_ "${command}"`).join('\n')}\n)\n`,
  );
  const env = { ...process.env, GOBIN: toolchain.binDir, CGO_ENABLED: build.cgo ? '1' : '0', GOFLAGS: '-mod=mod' };

  report(`  resolving ${build.module}@${build.moduleVersion} and its dependencies`);
  await runGo(['mod', 'tidy'], build.buildDir, env, report);
  let sourceDir = (await runGo(['list', '-m', '-f', '{{.Dir}}', build.module], build.buildDir, env, report)).trim();
  if (build.patches !== undefined && build.patches.length > 0) {
    report(`  applying ${build.patches.map((patch) => patch.name).join(', ')} to a copy of ${build.module}`);
    const patched = path.join(build.buildDir, 'patched-source');
    patchedSource(sourceDir, patched, build.patches);
    writeFileSync(
      path.join(build.buildDir, 'go.mod'),
      `${readFileSync(path.join(build.buildDir, 'go.mod'), 'utf8')}
replace ${build.module} => ./patched-source
`,
    );
    sourceDir = patched;
  }
  for (const command of build.commands) {
    report(`  compiling ${path.basename(command)}`);
    await runGo(
      ['install', '-trimpath', '-buildvcs=false', '-ldflags', build.ldflags.join(' '), command],
      build.buildDir,
      env,
      report,
    );
  }
  return sourceDir;
}

async function requireGo(): Promise<void> {
  try {
    await runGo(['version'], process.cwd(), process.env, () => undefined);
  } catch {
    throw new Error('Go is needed to build the Fabric binaries (go 1.25 or newer on PATH); `go version` failed');
  }
}

function runGo(args: string[], cwd: string, env: NodeJS.ProcessEnv, report: ProgressReporter): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let downloads = 0;
    let nextReport = 25;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr += text;
      downloads += (text.match(/^go: downloading /gm) ?? []).length;
      if (downloads >= nextReport) {
        report(`    ${downloads} modules downloaded`);
        nextReport += 25;
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`go ${args.join(' ')} (in ${cwd}) exited with ${code}:\n${stderr.slice(-4000)}`));
    });
  });
}
