import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type Harness } from '../support/harness';

/**
 * The console's typed client (apps/console/src/api/schema.d.ts) is generated from the OpenAPI document with
 * openapi-typescript. This test boots the API, regenerates it from /docs-json and fails when the committed file
 * differs, so the console and the contract cannot drift. `npm run gen:console-api` rewrites the file.
 */
const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'apps', 'console', 'scripts', 'gen-api.mjs');
const COMMITTED = join(ROOT, 'apps', 'console', 'src', 'api', 'schema.d.ts');

describe('console API client', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness({ isolatedDb: false });
    dir = mkdtempSync(join(tmpdir(), 'iter-openapi-'));
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is generated from the current OpenAPI document', async () => {
    const res = await h.http().get('/docs-json').expect(200);
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(res.body));
    const generated = execFileSync(process.execPath, [SCRIPT, file, '--stdout'], {
      encoding: 'utf8',
    });
    expect(generated).toContain('"/v1/processes/{id}/events"');
    expect(generated).toContain('"/v1/todo"');
    if (process.env['ITER_UPDATE_API_CLIENT'] === '1') writeFileSync(COMMITTED, generated);
    const committed = readFileSync(COMMITTED, 'utf8');
    // a stale client: run `npm run gen:console-api` and commit apps/console/src/api/schema.d.ts
    expect(committed).toBe(generated);
  });
});
