import { stringify, type Options } from 'csv-stringify/sync';
import type { HistoryEvent } from '@app/engine';
import type { ExportFormat } from './dto/process.dto';

/** CSV columns, in order: the history event flattened; `payload` is the event payload as a JSON string. */
export const CSV_COLUMNS = [
  'seq',
  'occurredAt',
  'recordedAt',
  'type',
  'actorSubject',
  'actorRole',
  'actorEnte',
  'stateBefore',
  'stateAfter',
  'versionAfter',
  'payload',
  'prevHash',
  'hash',
] as const;

/** A cell a spreadsheet would read as a formula (OWASP "CSV Injection"), including the full-width forms. */
export const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * RFC 4180 (csv-stringify): a field with a comma, a double quote, CR or LF is quoted, inner quotes doubled;
 * lines end in CRLF. Against CSV injection (OWASP), a text cell starting with = + - @ tab or CR is prefixed
 * with a single quote and quoted, so a spreadsheet opens it as text, never as a formula.
 */
const CSV_OPTIONS: Options = {
  escape_formulas: true,
  // csv-stringify with CRLF records does not quote a bare LF by itself: RFC 4180 wants it quoted
  quoted_match: [FORMULA_START, /[\r\n]/],
  record_delimiter: 'windows',
  eof: true,
};

export function csvRow(fields: readonly (string | number | null)[]): string {
  return stringify([fields.map((f) => (f === null ? '' : f))], CSV_OPTIONS);
}

/** One field as it appears in a row (without the line end). */
export function csvField(value: string | number | null): string {
  return csvRow([value]).slice(0, -2);
}

function csvLine(e: HistoryEvent): string {
  return csvRow([
    e.seq,
    e.occurredAt,
    e.recordedAt,
    e.type,
    e.actor.subject,
    e.actor.role,
    e.actor.ente,
    e.stateBefore,
    e.stateAfter,
    e.versionAfter,
    JSON.stringify(e.payload),
    e.prevHash,
    e.hash,
  ]);
}

export const EXPORT_CONTENT_TYPE: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  jsonl: 'application/jsonl; charset=utf-8',
};

/** The export as text chunks: CSV with its header row, or one JSON object per line. */
export async function* serializeHistory(
  events: AsyncIterable<HistoryEvent>,
  format: ExportFormat,
): AsyncGenerator<string> {
  if (format === 'csv') yield csvRow(CSV_COLUMNS);
  for await (const e of events) yield format === 'csv' ? csvLine(e) : `${JSON.stringify(e)}\n`;
}

/**
 * Reads the first item now (for the history: runs the first page's query), so a failure is an ordinary JSON
 * error answered before any header; the rest is read as the answer streams. Closing the result (a client
 * that goes away) closes the source.
 */
export async function primed<T>(source: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  return {
    async *[Symbol.asyncIterator]() {
      let done = first.done;
      try {
        if (done) return;
        yield first.value;
        for (;;) {
          const next = await it.next();
          if (next.done) {
            done = true;
            return;
          }
          yield next.value;
        }
      } finally {
        if (!done) await it.return?.();
      }
    },
  };
}
