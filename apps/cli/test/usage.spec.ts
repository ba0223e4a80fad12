import { randomUUID } from 'node:crypto';
import { dispatch } from '../src/cli';
import { COMMANDS } from '../src/commands';

/**
 * Usage errors the commands find in their arguments before they open any connection: exit 2 with a message
 * and the command's usage on stderr, nothing on stdout (in process, no database or Redis needed).
 */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await dispatch(COMMANDS, argv, {
    out: (x) => (out += x),
    err: (x) => (err += x),
  });
  return { code, out, err };
}

describe('iter CLI usage errors', () => {
  it('history-export: a format named like an Object.prototype member is unknown, not a format', async () => {
    for (const format of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const r = await run(['history-export', randomUUID(), '--format', format]);
      expect({ format, code: r.code, out: r.out }).toEqual({ format, code: 2, out: '' });
      expect(r.err).toContain(`unknown --format ${format}: csv or ndjson`);
      expect(r.err).toContain('usage: iter history-export');
    }
  });

  it('history-export: --from/--to follow the API rules (an instant with its offset), not Date.parse', async () => {
    // each of these Date.parse accepts; Postgres refused the first two after the CSV header was written, the
    // last two were read in the database's time zone (the API refuses them all)
    for (const from of ['1', 'March 7', '2026-03-01', '2026-03-01T10:00', '2026-02-30T10:00:00Z']) {
      const r = await run(['history-export', randomUUID(), '--from', from]);
      expect({ from, code: r.code, out: r.out }).toEqual({ from, code: 2, out: '' });
      expect(r.err).toContain(`--from ${from}: must be an ISO 8601 instant with an offset`);
    }
    const to = await run(['history-export', randomUUID(), '--to', 'yesterday']);
    expect(to.code).toBe(2);
    expect(to.err).toContain('--to yesterday: must be an ISO 8601 instant with an offset');
    const longType = await run(['history-export', randomUUID(), '--type', 'x'.repeat(101)]);
    expect(longType.code).toBe(2);
    expect(longType.err).toContain('--type');
  });

  it('token: a --ttl longer than JWT_MAX_LIFETIME_S is refused (the API would refuse the token)', async () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      for (const ttl of ['2d', '13h', '721m', '1w']) {
        const r = await run([
          'token',
          '--sub',
          'x',
          '--role',
          'admin',
          '--dev-secret',
          '--ttl',
          ttl,
        ]);
        expect({ ttl, code: r.code }).toEqual({ ttl, code: 2 });
        expect(r.err).toContain(`bad --ttl ${ttl}: longer than JWT_MAX_LIFETIME_S (43200 s)`);
      }
      expect(write).not.toHaveBeenCalled();
      const ok = await run([
        'token',
        '--sub',
        'x',
        '--role',
        'admin',
        '--dev-secret',
        '--ttl',
        '12h',
      ]);
      expect(ok.code).toBe(0);
      expect(String(write.mock.calls[0]?.[0])).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    } finally {
      write.mockRestore();
    }
  });
});
