import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The CLI's small dispatcher over node:util parseArgs (strict: an unknown flag or a missing value is an error).
 * Each command declares its options once; the same declaration drives parsing and `--help`. No framework:
 * the commands are plain async functions, and a Nest application context is only built where a command needs
 * one (none does today: they use the libraries directly, as the worker's processors do).
 */
export type Options = NonNullable<ParseArgsConfig['options']>;

export interface OptionHelp {
  /** the value's placeholder in the usage line, e.g. `<ipa>`; omitted for booleans */
  value?: string;
  help: string;
}

export interface Command<O extends Options = Options> {
  name: string;
  /** one line for the global help */
  summary: string;
  /** positionals, as shown in the usage line, e.g. `[unione-key...]` */
  args?: string;
  /** more lines after the options in `iter <command> --help` */
  details?: string;
  options: O;
  optionHelp: { [K in keyof O]: OptionHelp };
  /** how many positionals are allowed (0 by default) */
  maxPositionals?: number;
  run(values: ParsedValues<O>, positionals: string[]): Promise<number>;
}

export type ParsedValues<O extends Options> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string;
};

/** Exit code of a usage error (unknown command or flag, a missing or bad value): as the shells' builtins. */
export const USAGE = 2;

export class UsageError extends Error {}

export function defineCommand<O extends Options>(c: Command<O>): Command<O> {
  return c;
}

export function usageLine(c: Command): string {
  const flags = Object.entries(c.options)
    .map(([name, o]) => {
      const h = c.optionHelp[name]!;
      return o.type === 'boolean' ? `[--${name}]` : `[--${name} ${h.value ?? '<value>'}]`;
    })
    .join(' ');
  return `iter ${c.name}${c.args ? ` ${c.args}` : ''}${flags ? ` ${flags}` : ''}`;
}

export function commandHelp(c: Command): string {
  const rows = Object.entries(c.options).map(([name, o]) => {
    const h = c.optionHelp[name]!;
    const flag = `--${name}${o.type === 'boolean' ? '' : ` ${h.value ?? '<value>'}`}`;
    return `  ${flag.padEnd(28)} ${h.help}`;
  });
  rows.push(`  ${'--help'.padEnd(28)} show this help`);
  return [
    `usage: ${usageLine(c)}`,
    '',
    c.summary,
    '',
    'options:',
    ...rows,
    ...(c.details ? ['', c.details] : []),
    '',
  ].join('\n');
}

export function globalHelp(commands: readonly Command[]): string {
  return [
    'usage: iter <command> [options]   (npm run iter -- <command> ...)',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`),
    '',
    '`iter <command> --help` shows the options of one command. Configuration comes from the environment',
    '(DATABASE_URL, REDIS_URL, JWT_SECRET, CHECKPOINT_DIR...: docs/operations.md).',
    '',
  ].join('\n');
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Parses argv for one command and runs it; usage errors print the command's usage on stderr and return 2. */
export async function dispatch(
  commands: readonly Command[],
  argv: string[],
  io: Io,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const which = name === 'help' ? rest[0] : undefined;
    const c = which ? commands.find((x) => x.name === which) : undefined;
    if (which && !c) {
      io.err(`unknown command: ${which}\n\n${globalHelp(commands)}`);
      return USAGE;
    }
    io.out(c ? commandHelp(c) : globalHelp(commands));
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`unknown command: ${name}\n\n${globalHelp(commands)}`);
    return USAGE;
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const max = command.maxPositionals ?? 0;
    if (parsed.positionals.length > max)
      throw new UsageError(`unexpected argument: ${parsed.positionals[max]}`);
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${commandHelp(command)}`);
    return USAGE;
  }
  if (parsed.values['help']) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(parsed.values as ParsedValues<Options>, parsed.positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${commandHelp(command)}`);
      return USAGE;
    }
    throw err;
  }
}
