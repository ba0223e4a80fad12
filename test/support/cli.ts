import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * Run apps/cli from its TypeScript source (ts-node, transpile only), as `npm run iter --` would run it built.
 * CHECKPOINT_DIR defaults to an empty folder of this call's own, so a developer's var/checkpoints never
 * leaks into a test.
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register',
        '-r',
        'tsconfig-paths/register',
        join(ROOT, 'apps/cli/src/main.ts'),
        ...args,
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          NODE_ENV: 'test',
          TS_NODE_TRANSPILE_ONLY: 'true',
          CHECKPOINT_DIR: join(tmpdir(), `iter-no-checkpoints-${randomBytes(4).toString('hex')}`),
          CHECKPOINT_DEV_KEY: 'true',
          ...env,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
