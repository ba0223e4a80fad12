import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

/**
 * docker-compose.yml against the Compose Specification's JSON schema (vendored in docker/schema/, see its README:
 * CI has no network but the npm registry). A typo in a key, a wrong type or an unknown option fails here, not at
 * `docker compose up` on a server.
 */
const ROOT = join(__dirname, '..');

function composeValidator(): ValidateFunction {
  const schema = JSON.parse(
    readFileSync(join(ROOT, 'docker', 'schema', 'compose-spec.json'), 'utf8'),
  ) as Record<string, unknown>;
  // the schema names draft-07 without the trailing '#' that ajv registers it under; it is draft-07 all the same
  delete schema['$schema'];
  // strict mode off: the schema uses annotations (e.g. `deprecated`) ajv does not know as keywords
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('duration', /^[+-]?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  return ajv.compile(schema);
}

const readCompose = (): Record<string, unknown> =>
  parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Record<
    string,
    unknown
  >;

describe('docker-compose.yml', () => {
  const validate = composeValidator();

  it('is valid against the Compose Specification schema', () => {
    const ok = validate(readCompose());
    expect(ok ? [] : validate.errors).toEqual([]);
  });

  it('would be refused with a misspelt option or a wrong type (the check can fail)', () => {
    const typo = readCompose() as { services: Record<string, Record<string, unknown>> };
    typo.services['api']!['dependson'] = ['postgres'];
    expect(validate(typo)).toBe(false);
    const wrongType = readCompose() as { services: Record<string, Record<string, unknown>> };
    wrongType.services['redis']!['restart'] = { policy: 'always' };
    expect(validate(wrongType)).toBe(false);
  });

  it('runs on a supported Node LTS image that package.json engines allows', () => {
    const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
    const image = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile);
    expect(Number(image?.[1])).toBeGreaterThanOrEqual(22);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    expect(pkg.engines.node).toContain(`>=${image?.[1]}`);
  });
});
