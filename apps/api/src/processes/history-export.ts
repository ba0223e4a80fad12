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

/** RFC 4180: a field with a comma, a double quote, CR or LF is quoted, inner quotes doubled; lines end in CRLF. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(fields: readonly (string | number | null)[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
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
