import { SingleBar } from 'cli-progress';
import { loadConfig } from '@app/common';
import { checkpointConfigFrom, loadCheckpoint, verifyAllChains } from '@app/engine';
import { defaultRegistry } from '@app/workflows';
import { defineCommand } from '../cli';
import { say, withDataSource } from './support';

export const verifyAudit = defineCommand({
  name: 'verify-audit',
  summary:
    'verify every hash chain (processes and ente registry) against the latest signed checkpoint; exit 1 if anything is wrong',
  options: { json: { type: 'boolean' }, progress: { type: 'boolean' } },
  optionHelp: {
    json: { help: 'print the summary as one JSON object' },
    progress: { help: 'show the progress bar on stderr even when it is not a terminal' },
  },
  details: [
    'Output: one line per broken chain (INVALID <instance id>: first bad seq <n> (<reason>)), per registry problem,',
    'per chain moved since the checkpoint (MOVED), then the summary. A progress bar is drawn on stderr when stderr is',
    'a terminal (or with --progress). Exit codes: 0 all valid, 1 something is wrong, 2 usage error.',
  ].join('\n'),
  async run(v) {
    const config = loadConfig();
    const cp = checkpointConfigFrom(config);
    return withDataSource(async (ds) => {
      const showBar = !v.json && (v.progress === true || process.stderr.isTTY === true);
      const bar = showBar
        ? new SingleBar({
            stream: process.stderr,
            format:
              'verifying [{bar}] {percentage}% | {value}/{total} chains | {events} events | {invalid} invalid',
            noTTYOutput: v.progress === true,
            notTTYSchedule: 1000,
            hideCursor: true,
            clearOnComplete: false,
          })
        : null;
      if (bar) {
        const [{ n }] = await ds.query<[{ n: number }]>(
          `SELECT count(*)::int AS n FROM process_instance`,
        );
        bar.start(n, 0, { events: 0, invalid: 0 });
      }
      let events = 0;
      let invalid = 0;
      const r = await verifyAllChains(
        ds,
        (_id, res) => {
          events += res.events;
          if (!res.valid) invalid++;
          bar?.increment(1, { events, invalid });
        },
        { registry: defaultRegistry(), checkpoint: await loadCheckpoint(cp) },
      );
      bar?.stop();
      const ok =
        r.invalid === 0 &&
        r.registry.valid &&
        (r.checkpoint.status === 'ok' || r.checkpoint.status === 'absent');
      if (v.json) {
        say(JSON.stringify(r));
        return ok ? 0 : 1;
      }
      for (const f of r.failures)
        say(`INVALID ${f.instanceId}: first bad seq ${f.firstBadSeq} (${f.reason})`);
      for (const p of r.registry.problems)
        say(
          `INVALID ente-registry${p.ente ? ` ${p.ente}` : ''}${p.seq ? ` seq ${p.seq}` : ''}: ${p.reason}`,
        );
      for (const m of r.checkpoint.moved) say(`MOVED ${m.chain}: ${m.reason}`);
      if (r.checkpoint.status === 'untrusted')
        say(`CHECKPOINT ${r.checkpoint.file}: ${r.checkpoint.problem}`);
      say(
        `${r.chains} chains, ${r.events} events verified: ${r.valid} valid, ${r.invalid} invalid`,
      );
      say(
        `ente registry: ${r.registry.events} events, ${r.registry.valid ? 'valid' : `${r.registry.problems.length} problems`}`,
      );
      say(
        r.checkpoint.status === 'absent'
          ? `checkpoint: none in ${cp.dir}`
          : `checkpoint ${r.checkpoint.createdAt} (${r.checkpoint.file}): ${r.checkpoint.status}`,
      );
      say(ok ? 'result: OK' : 'result: FAILED');
      return ok ? 0 : 1;
    });
  },
});
