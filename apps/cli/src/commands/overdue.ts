import { DateTime } from 'luxon';
import { loadConfig } from '@app/common';
import { defineCommand, UsageError } from '../cli';
import { say, withDataSource } from './support';

export interface OverdueRow {
  instanceId: string;
  tenant: string;
  definition: string;
  businessKey: string;
  title: string;
  state: string;
  timerKey: string;
  /** the ente the deadline is about (`deadline:<ipa>`, `recesso:<ipa>`), null for a process-wide one */
  ente: string | null;
  enteName: string | null;
  dueAt: string;
  /**
   * not-fired: the deadline is due and its timer is still armed (the worker has not fired it: down, behind, or
   * Redis lost the job and the reconciler has not run yet); expired: the timer fired, the ente still has to act
   * and no extension is running (e.g. a STALLED convention).
   */
  reason: 'not-fired' | 'expired';
}

/**
 * Overdue = a process still `active` whose latest deadline timer for some key (the one an extension re-arms
 * replaces the fired one) has `due_at` before now (the database's clock plus ITER_CLOCK_OFFSET_MS), and either
 *  - is still `armed` (not-fired), or
 *  - has `fired` for an ente that is still among the process's pending entes (expired: nothing moved since).
 * A cancelled latest timer (the ente acted, the process moved on) is never overdue; reminders are not deadlines.
 */
export async function findOverdue(
  ds: { query: (sql: string, params?: unknown[]) => Promise<unknown> },
  offsetMs: number,
  filter: { unione?: string; ente?: string } = {},
): Promise<OverdueRow[]> {
  const rows = (await ds.query(
    `WITH latest AS (
       SELECT DISTINCT ON (t.instance_id, t.key) t.instance_id, t.key, t.due_at, t.status
       FROM timer t WHERE t.kind = 'deadline'
       ORDER BY t.instance_id, t.key, t.created_at DESC, t.armed_version DESC
     ), cutoff AS (SELECT now() + make_interval(secs => $1::double precision / 1000) AS at)
     SELECT p.id, p.tenant, p.definition_key, p.business_key, p.title, p.state_value, l.key, l.due_at, l.status,
            NULLIF(split_part(l.key, ':', 2), '') AS ente, e.denominazione
     FROM latest l
     JOIN process_instance p ON p.id = l.instance_id
     LEFT JOIN ente e ON e.codice_ipa = NULLIF(split_part(l.key, ':', 2), '')
     WHERE p.status = 'active' AND l.due_at <= (SELECT at FROM cutoff)
       AND (l.status = 'armed'
            OR (l.status = 'fired' AND split_part(l.key, ':', 2) = ANY (p.pending_entes)))
       AND ($2::text IS NULL OR p.tenant = $2)
       AND ($3::text IS NULL OR split_part(l.key, ':', 2) = $3)
     ORDER BY l.due_at, p.business_key, l.key`,
    [offsetMs, filter.unione ?? null, filter.ente ?? null],
  )) as {
    id: string;
    tenant: string;
    definition_key: string;
    business_key: string;
    title: string;
    state_value: string;
    key: string;
    due_at: Date;
    status: 'armed' | 'fired';
    ente: string | null;
    denominazione: string | null;
  }[];
  return rows.map((r) => ({
    instanceId: r.id,
    tenant: r.tenant,
    definition: r.definition_key,
    businessKey: r.business_key,
    title: r.title,
    state: r.state_value,
    timerKey: r.key,
    ente: r.ente,
    enteName: r.denominazione,
    dueAt: r.due_at.toISOString(),
    reason: r.status === 'armed' ? 'not-fired' : 'expired',
  }));
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(w[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export const overdue = defineCommand({
  name: 'overdue',
  summary: 'list active processes with a deadline already passed (per ente), as a table or JSON',
  options: {
    json: { type: 'boolean' },
    unione: { type: 'string' },
    ente: { type: 'string' },
  },
  optionHelp: {
    json: { help: 'print a JSON array instead of the table' },
    unione: { value: '<ipa>', help: 'only processes of this Unione (tenant)' },
    ente: { value: '<ipa>', help: 'only deadlines of this ente' },
  },
  details: [
    'A deadline is overdue when the process is still active, the latest timer of that deadline (an extension',
    'replaces it) is due before now (database clock + ITER_CLOCK_OFFSET_MS), and either its timer is still armed',
    '(not-fired: the worker has not fired it yet) or it fired and the ente still has to act (expired).',
    'Exit code 0 whether or not something is overdue.',
  ].join('\n'),
  async run(v) {
    for (const k of ['unione', 'ente'] as const)
      if (v[k] !== undefined && !/^[a-z0-9_]{2,20}$/.test(v[k]))
        throw new UsageError(`--${k} is not a codice IPA: ${v[k]}`);
    const config = loadConfig();
    const rows = await withDataSource((ds) =>
      findOverdue(ds, config.clockOffsetMs, { unione: v.unione, ente: v.ente }),
    );
    if (v.json) {
      say(JSON.stringify(rows));
      return 0;
    }
    if (rows.length === 0) {
      say('no overdue deadlines');
      return 0;
    }
    say(
      table(
        ['DUE (Europe/Rome)', 'UNIONE', 'PROCESS', 'STATE', 'ENTE', 'WHY', 'ID'],
        rows.map((r) => [
          DateTime.fromISO(r.dueAt, { zone: 'Europe/Rome' }).toFormat('yyyy-MM-dd HH:mm'),
          r.tenant,
          `${r.definition} ${r.businessKey}`,
          r.state,
          r.ente ? `${r.ente}${r.enteName ? ` ${r.enteName}` : ''}` : r.timerKey,
          r.reason,
          r.instanceId,
        ]),
      ),
    );
    say(`${rows.length} overdue`);
    return 0;
  },
});
