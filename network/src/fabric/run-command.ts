import { spawn } from 'node:child_process';

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion and returns its output.
 *
 * @throws Error with the command line, exit code and the tail of its output.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; secrets?: readonly string[] } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve({ stdout, stderr });
        return;
      }
      const name = command.split('/').pop() ?? command;
      const how = signal === null ? `exited with ${code}` : `was stopped by ${signal}`;
      const output = `${stderr}${stdout}`.trim().split('\n').slice(-15).join('\n');
      reject(new Error(redact(`${name} ${args.join(' ')} ${how}:\n${output}`, options.secrets ?? [])));
    });
  });
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.filter(Boolean).reduce((redacted, secret) => redacted.replaceAll(secret, '***'), text);
}
