import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Issue 16, configuration: nothing reads process.env at import time anywhere in apps/ and libs/ (a value read
 * before the configuration is validated escapes the schema and its start-up error), and the environment is read
 * only by the configuration's loaders, plus an allow-list with reasons. Tests, benches and scripts are out.
 */
const ROOT = join(__dirname, '..');

/** files that may read process.env at run time (inside a function), and why */
const ALLOWED: Record<string, string> = {
  'libs/common/src/config.ts':
    'loadConfig(): the one schema (IterEnvironment) and its default source',
  'libs/notifications/src/notification-config.ts':
    'loadNotificationConfig(): the channels settings, validated with loadConfig at start-up (validateIterEnvironment)',
  'apps/api/src/auth/session.ts':
    'loadSessionSettings(): the session/OIDC settings, validated at the api start-up (ApiModule)',
  'apps/api/src/console/console-static.ts':
    'consoleDir(): ITER_CONSOLE_DIR (in the schema), looked up when the console is served',
};
/** folders whose files may read it at run time: the CLI passes the environment to the processes it starts */
const ALLOWED_DIRS = ['apps/cli/'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    // apps/console is the browser app (Vite), not a Node process
    if (statSync(p).isDirectory())
      return ['node_modules', 'test', 'scripts'].includes(name) ||
        relative(ROOT, p) === join('apps', 'console')
        ? []
        : sources(p);
    return /\.tsx?$/.test(name) && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(name) ? [p] : [];
  });
}

interface Read {
  file: string;
  line: number;
  atImport: boolean;
}

function envReads(file: string, text = readFileSync(file, 'utf8')): Read[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const reads: Read[] = [];
  const visit = (node: ts.Node, inFunction: boolean): void => {
    if (
      ts.isPropertyAccessExpression(node) &&
      node.name.text === 'env' &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'process'
    ) {
      reads.push({
        file: relative(ROOT, file),
        line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1,
        atImport: !inFunction,
      });
    }
    // a function's body and its parameters' defaults run when it is called, not when the module loads
    node.forEachChild((child) => visit(child, inFunction || ts.isFunctionLike(node)));
  };
  visit(sf, false);
  return reads;
}

describe('environment reads', () => {
  const files = ['apps', 'libs'].flatMap((d) => sources(join(ROOT, d)));
  const reads = files.flatMap((f) => envReads(f));

  it('scans the sources', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((f) => f.endsWith(join('libs', 'common', 'src', 'config.ts')))).toBe(true);
  });

  it('never at import time', () => {
    expect(reads.filter((r) => r.atImport)).toEqual([]);
  });

  it('only in the configuration loaders and the allow-list', () => {
    const outside = reads.filter(
      (r) => !(r.file in ALLOWED) && !ALLOWED_DIRS.some((d) => r.file.startsWith(d)),
    );
    expect(outside).toEqual([]);
  });

  it('the check sees a read at import time, in a decorator, and tells it from one in a function', () => {
    const probe = (src: string) =>
      envReads(join(ROOT, 'probe.ts'), src).filter((r) => r.atImport).length;
    expect(probe(`const port = process.env['PORT'];`)).toBe(1);
    expect(probe(`@Processor('q', { lockDuration: Number(process.env['X']) }) class P {}`)).toBe(1);
    expect(probe(`function load(env = process.env) { return env; }`)).toBe(0);
    expect(probe(`const f = () => process.env['X'];`)).toBe(0);
  });
});
