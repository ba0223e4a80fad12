import { readFileSync } from 'node:fs';

/**
 * Summarise a V8 .cpuprofile (node --cpu-prof): self time by package / file and by function, and the total time
 * under a few functions of interest (inclusive). Usage: node dist/bench/profile.js <file.cpuprofile> [top]
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function where(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const i = url.indexOf('/dist/');
  if (i >= 0)
    return url.slice(i + '/dist/'.length).replace(/^(libs|apps)\/([^/]+)\/src\/.*$/, '$1/$2');
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/profile.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const top = Number(topArg ?? 25);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self.entries()].filter(([id]) =>
    ['(idle)', '(program)', '(garbage collector)'].includes(byId.get(id)!.callFrame.functionName),
  );
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;

  const group = (key: (n: Node) => string) => {
    const m = new Map<string, number>();
    for (const [id, us] of self) {
      const k = key(byId.get(id)!);
      m.set(k, (m.get(k) ?? 0) + us);
    }
    return [...m.entries()].sort((a, b) => b[1] - a[1]);
  };
  console.log(
    `${file}: ${(total / 1e6).toFixed(1)} s sampled; ${idle.map(([id, us]) => `${byId.get(id)!.callFrame.functionName} ${pct(us).trim()}`).join(', ')}`,
  );
  console.log('\nself time by package / file:');
  for (const [k, us] of group((n) =>
    n.callFrame.url ? where(n.callFrame.url) : n.callFrame.functionName,
  ).slice(0, top))
    console.log(`${pct(us)} ${ms(us)}  ${k}`);
  console.log('\nself time by function:');
  for (const [k, us] of group(
    (n) =>
      `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`,
  ).slice(0, top)) {
    console.log(`${pct(us)} ${ms(us)}  ${k}`);
  }

  // inclusive time of named functions (each sample counted once per function name on its stack)
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      const k = `${n.callFrame.functionName}  ${where(n.callFrame.url)}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  console.log('\ninclusive time (function and everything it calls):');
  for (const [k, us] of [...inclusive.entries()]
    .filter(([k]) => !k.startsWith('(root)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top * 2)) {
    console.log(`${pct(us)} ${ms(us)}  ${k}`);
  }
}

main();
