import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IterMetrics } from '@app/runtime';
import { defaultRegistry } from '@app/workflows';

/** docker/grafana/iter-dashboard.json asks only for series the api and the worker expose. */
describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(
    readFileSync(join(__dirname, '..', 'docker', 'grafana', 'iter-dashboard.json'), 'utf8'),
  ) as { panels: { targets?: { expr: string }[] }[] };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

  it('uses every series of IterMetrics and no series that does not exist', async () => {
    const m = new IterMetrics(defaultRegistry());
    const known = new Set(
      (await m.registry.getMetricsAsJSON()).flatMap((x) =>
        String(x.type) === 'histogram'
          ? [`${x.name}_bucket`, `${x.name}_count`, `${x.name}_sum`]
          : [x.name],
      ),
    );
    const used = new Set(
      exprs.flatMap((e) =>
        [...e.matchAll(/\b((?:iter|process|nodejs)_[a-z0-9_]+)\b/g)].map((r) => r[1]!),
      ),
    );
    expect(exprs.length).toBeGreaterThan(10);
    expect([...used].filter((n) => !known.has(n))).toEqual([]);
    const iterSeries = [...known].filter((n) => n.startsWith('iter_'));
    const unused = iterSeries.filter(
      (n) => !used.has(n) && !used.has(`${n}_bucket`) && !/_(count|sum)$/.test(n),
    );
    expect(unused.filter((n) => !n.endsWith('_bucket'))).toEqual([]);
  });
});
