import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { loadConfig, ProcessNotFoundError, SYSTEM_ACTOR, systemClock } from '@app/common';
import { ProcessQueryService } from '@app/engine';
import { defaultRegistry } from '@app/workflows';
import { HistoryQueryDto } from '../../../api/src/processes/dto/process.dto';
import { serializeHistory } from '../../../api/src/processes/history-export';
import { defineCommand, UsageError } from '../cli';
import { UUID, warn, withDataSource } from './support';

const FORMATS = { csv: 'csv', ndjson: 'jsonl', jsonl: 'jsonl' } as const;

/**
 * The same export as GET /v1/processes/:id/history/export (the same serializer: CSV per RFC 4180 with its
 * header row and formula escaping, or one history event per line), read directly from the database.
 */
export const historyExport = defineCommand({
  name: 'history-export',
  summary: "export a process's audit history as CSV or NDJSON, to stdout or a file",
  args: '<process-id>',
  maxPositionals: 1,
  options: {
    format: { type: 'string' },
    out: { type: 'string' },
    type: { type: 'string' },
    actor: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
  },
  optionHelp: {
    format: { value: '<csv|ndjson>', help: 'csv (default) or ndjson (alias jsonl)' },
    out: { value: '<file>', help: 'write to this file instead of stdout' },
    type: { value: '<event-type>', help: 'only events of this type' },
    actor: { value: '<subject>', help: 'only events of this actor' },
    from: { value: '<iso-instant>', help: 'only events that occurred at or after' },
    to: { value: '<iso-instant>', help: 'only events that occurred at or before' },
  },
  async run(v, [id]) {
    if (!id) throw new UsageError('the process id is required');
    if (!UUID.test(id)) throw new UsageError(`not a process id (uuid): ${id}`);
    const name = v.format ?? 'csv';
    // an own key only: `--format constructor` must not find Object.prototype's members
    if (!Object.hasOwn(FORMATS, name))
      throw new UsageError(`unknown --format ${name}: csv or ndjson`);
    const format = FORMATS[name as keyof typeof FORMATS];
    // the filters are checked by the API's own rules (GET /v1/processes/:id/history/export): an instant needs
    // its offset, a bare date or a local time would be read in the database's time zone
    const filters = { type: v.type, actor: v.actor, from: v.from, to: v.to };
    for (const e of validateSync(plainToInstance(HistoryQueryDto, filters)))
      throw new UsageError(
        `--${e.property} ${String(e.value)}: ${Object.values(e.constraints ?? {})[0] ?? 'invalid'}`,
      );
    return withDataSource(async (ds) => {
      const q = new ProcessQueryService(ds, defaultRegistry(), systemClock);
      let exp;
      try {
        exp = await q.exportHistory(id, SYSTEM_ACTOR, filters);
      } catch (err) {
        if (err instanceof ProcessNotFoundError) {
          warn(`process not found: ${id}`);
          return 1;
        }
        throw err;
      }
      const source = Readable.from(serializeHistory(exp.events, format));
      if (v.out) await pipeline(source, createWriteStream(v.out));
      else await pipeline(source, process.stdout, { end: false });
      if (v.out) warn(`history of ${id} written to ${v.out}`);
      return 0;
    }, loadConfig().databaseUrl);
  },
});
