import { ConfigError } from '@app/common';
import { dispatch } from './cli';
import { COMMANDS } from './commands';

/**
 * Iter's admin commands (`npm run iter -- <command>`, `node dist/apps/cli/src/main.js <command>`): options are
 * parsed by node:util parseArgs (strict), dispatched by ./cli.ts; `iter --help` and `iter <command> --help`.
 * Messages are in English (they address operators); what a segretario reads (the demo's timeline) is Italian.
 */
dispatch(COMMANDS, process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
}).then(
  // stdout and stderr are synchronous for files and pipes on Linux: nothing written is lost by exiting
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `${err instanceof ConfigError || err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(1);
  },
);
