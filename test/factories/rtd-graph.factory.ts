/**
 * The RTD machine's graph model (rtd.machine.spec's path coverage, pure-transition.spec): a small appointment — the
 * Unione and one comune — and, in each state, every event the definition knows with a payload that fits the
 * state; only the events the state really takes are offered, so every edge is a real transition.
 */
import { getShortestPaths } from '@xstate/graph';
import { transition, type SnapshotFrom } from 'xstate';
import { addCalendarDays } from '@app/calendar';
import { rtdMachine, rtdTimers, type MachineEvent } from '@app/workflows';
import {
  ALL_DECLARATIONS,
  BASSA_REGGIANA,
  BASSA_REGGIANA_COMUNI,
  CF_FIRST,
  CF_SECOND,
  STAFF,
  actor,
  candidatePayload,
  decreePayload,
  ev,
  rtdInput,
} from './rtd.factory';

type Snap = SnapshotFrom<typeof rtdMachine>;
const AT = (d: string) => `${d}T09:00:00.000Z`;
const appointee = actor('appointee', BASSA_REGGIANA, CF_FIRST);
const segretario = (ente: string) => actor('segretario', ente);

/** a small model: the Unione and one comune; every event the definition knows, with payloads that fit the state */
export const RTD_GRAPH_INPUT = rtdInput({}, { members: BASSA_REGGIANA_COMUNI.slice(0, 1) });
const G_ENTES = [BASSA_REGGIANA, BASSA_REGGIANA_COMUNI[0]!.codiceIpa];
const SYS = actor('system', null);
export function rtdGraphEvents(s: Snap): MachineEvent[] {
  const c = s.context;
  const cur = c.current;
  const other = cur?.candidate.codiceFiscale === CF_FIRST ? CF_SECOND : CF_FIRST;
  const start = cur ? addCalendarDays(cur.startDate, 30) : '2026-02-01';
  const out: MachineEvent[] = [
    ev('rtd.candidate.select', candidatePayload({ codiceFiscale: other }), AT('2026-03-01'), STAFF),
    ev('rtd.candidate.withdraw', { reason: 'x' }, AT('2026-03-01'), STAFF),
    ev(
      'rtd.decree.issue',
      decreePayload({ startDate: start, durationMonths: 12 }, G_ENTES),
      AT('2026-03-01'),
    ),
    ev('rtd.notification.record', { deliveredAt: '2026-02-28T10:00:00Z' }, AT('2026-03-01'), STAFF),
    ev('rtd.accept', ALL_DECLARATIONS, AT('2026-03-01'), appointee),
    ev('rtd.decline', { reason: 'x' }, AT('2026-03-01'), appointee),
    ev(
      'rtd.publication.record',
      { channel: 'ALBO', date: '2026-03-01', reference: 'a' },
      AT('2026-03-01'),
      STAFF,
    ),
    ev(
      'rtd.publication.record',
      { channel: 'AMMINISTRAZIONE_TRASPARENTE', date: '2026-03-01', reference: 't' },
      AT('2026-03-01'),
      STAFF,
    ),
    ...G_ENTES.map((e) =>
      ev(
        'rtd.ipa.confirm',
        { ente: e, registeredOn: '2026-03-01' },
        AT('2026-03-01'),
        segretario(e),
      ),
    ),
    ev(
      'rtd.resignation.record',
      { date: '2026-03-01', effectiveDate: addCalendarDays(start, 1) },
      AT('2026-03-01'),
      STAFF,
    ),
    ev('rtd.convention.end', { date: '2026-12-31', reason: 'Scadenza' }, AT('2026-12-31'), SYS),
    ev(
      'rtd.ente.withdraw',
      { ente: G_ENTES[1]!, date: '2026-07-01', reason: 'Recesso' },
      AT('2026-07-01'),
      SYS,
    ),
    // the same comune joins again later (a withdrawn branch is final: a new row replaces it)
    ev(
      'rtd.ente.add',
      { ente: G_ENTES[1]!, date: '2026-09-01', enteFacts: BASSA_REGGIANA_COMUNI[0]! },
      AT('2026-09-01'),
      SYS,
    ),
  ];
  if (cur) {
    out.push(
      ev(
        'rtd.revoke',
        {
          number: '20',
          date: '2026-01-25',
          effectiveDate: addCalendarDays(cur.startDate, 2),
          reason: 'x',
        },
        AT('2026-03-01'),
      ),
    );
    out.push(
      ev(
        'rtd.incarico.end',
        { date: addCalendarDays(cur.startDate, 3), reason: 'x' },
        AT('2026-03-01'),
        STAFF,
      ),
    );
  }
  // timers: exactly what the state arms
  for (const t of rtdTimers(s)) out.push(ev(t.event.type, t.event.payload, t.dueAt, SYS));
  // only the events the state really takes: a refused event is no edge (so "taken" means a real transition)
  return out.filter((e) => transition(rtdMachine, s, e as never)[0] !== s);
}

/** every shortest path of the model: one node per (state value, event that led there), so every transition taken
 * appears on some path */
export function rtdGraphPaths() {
  return getShortestPaths(rtdMachine, {
    input: RTD_GRAPH_INPUT,
    events: rtdGraphEvents as never,
    serializeState: (s, e) =>
      `${JSON.stringify(s.value)}|${(e as { type?: string } | undefined)?.type ?? 'init'}`,
    limit: 5000,
  });
}
