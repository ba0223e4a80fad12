/**
 * `allowedEvents` of an RTD process says only what is true: over the reachable states of the RTD machine's graph
 * model (test/factories/rtd-graph.factory.ts) and for every kind of actor, an event offered is accepted with some
 * valid payload by the very decision the engine runs on a send (`decideEvent`), and an event accepted is offered.
 * Before the RTD rules had preconditions, `rtd.decree.issue` was offered with no candidate (ACTIVE) or with a
 * candidate lacking a requirement (always 422), and `rtd.ipa.confirm` to every segretario whose ente had already
 * confirmed or was no longer served (always 422). Pure: no database, no clock.
 */
import 'reflect-metadata';
import type { AnyMachineSnapshot } from 'xstate';
import { initialTransition, transition } from 'xstate';
import { addCalendarDays } from '@app/calendar';
import type { Actor, Role } from '@app/common';
import {
  rtdDefinitionV1,
  rtdMachine,
  rtdStateLabel,
  type MachineEvent,
  type RtdContext,
} from '@app/workflows';
import {
  ALL_DECLARATIONS,
  BASSA_REGGIANA,
  BASSA_REGGIANA_COMUNI,
  CF_FIRST,
  CF_SECOND,
  STAFF,
  candidatePayload,
  decreePayload,
  ev,
  rtdInput,
} from '../../../test/factories/rtd.factory';
import { rtdGraphEvents, rtdGraphPaths } from '../../../test/factories/rtd-graph.factory';
import { roleFor } from './authorization';
import { decideEvent } from './decide';
import { allowedEventsFor } from './process-view';

const def = rtdDefinitionV1;
const AT = (d: string) => `${d}T09:00:00.000Z`;
const COMUNE = BASSA_REGGIANA_COMUNI[0]!.codiceIpa;

const person = (role: Role, ente: string, subject?: string): Actor => ({
  subject: subject ?? `${role}@${ente}`,
  roles: [role],
  ente,
  unione: BASSA_REGGIANA,
  standing:
    ente === BASSA_REGGIANA
      ? { kind: 'UNIONE', unione: BASSA_REGGIANA }
      : { kind: 'COMUNE', unione: BASSA_REGGIANA },
});

function actorsOf(s: AnyMachineSnapshot): Actor[] {
  const cf = (s.context as { current: { candidate: { codiceFiscale: string } } | null }).current
    ?.candidate.codiceFiscale;
  return [
    person('presidente', BASSA_REGGIANA),
    person('staff', BASSA_REGGIANA),
    person('segretario', BASSA_REGGIANA),
    person('segretario', COMUNE),
    person('sindaco', COMUNE),
    person('appointee', BASSA_REGGIANA, cf ?? CF_FIRST),
  ];
}

/** the event as this actor would send it */
const as = (e: MachineEvent, actor: Actor): MachineEvent => {
  const spec = def.events[e.type]!;
  return { ...e, actor: { subject: actor.subject, role: roleFor(spec, actor), ente: actor.ente } };
};

function accepts(s: AnyMachineSnapshot, e: MachineEvent, actor: Actor): boolean {
  try {
    decideEvent(def, s, as(e, actor), actor, BASSA_REGGIANA, def.participants(s));
    return true;
  } catch {
    return false;
  }
}

describe('RTD: allowedEvents = exactly what would be accepted', () => {
  it('over every reachable state of the graph model and every kind of actor', () => {
    const failures: string[] = [];
    const offeredTypes = new Set<string>();
    const paths = rtdGraphPaths();
    expect(paths.length).toBeGreaterThan(20);
    for (const p of paths) {
      const s = p.state as unknown as AnyMachineSnapshot;
      // the payloads that fit the state (each is a real transition of the machine), and the decree naming only
      // the entes still served (the model's decree names both, which is wrong once the comune has left)
      const c = s.context as RtdContext;
      const served = c.entes.filter((e) => e.branch !== 'WITHDRAWN').map((e) => e.codiceIpa);
      const start = c.current ? addCalendarDays(c.current.startDate, 30) : '2026-02-01';
      const bank = [
        ...rtdGraphEvents(s as never),
        ev(
          'rtd.decree.issue',
          decreePayload({ startDate: start, durationMonths: 12 }, served),
          AT('2026-03-01'),
        ),
      ].filter((e) => def.events[e.type]!.scope !== 'system');
      for (const actor of actorsOf(s)) {
        const offered = allowedEventsFor(def, s, actor, BASSA_REGGIANA, def.participants(s));
        for (const type of new Set(bank.map((e) => e.type).concat(offered.map((o) => o.type)))) {
          const spec = def.events[type]!;
          const candidates = bank.filter(
            (e) =>
              e.type === type &&
              (spec.scope !== 'ente' || (e.payload as { ente?: string }).ente === actor.ente),
          );
          const accepted = candidates.some((e) => accepts(s, e, actor));
          const isOffered = offered.some(
            (o) =>
              o.type === type && (spec.scope !== 'ente' || (o.entes ?? []).includes(actor.ente!)),
          );
          const where = `${rtdStateLabel(s)} ${JSON.stringify(s.value)} ${actor.roles[0]}@${actor.ente} ${type}`;
          if (isOffered) offeredTypes.add(type);
          if (isOffered && !accepted) failures.push(`${where}: offered but never accepted`);
          if (!isOffered && accepted) failures.push(`${where}: accepted but not offered`);
        }
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect([...offeredTypes]).toEqual(
      expect.arrayContaining([
        'rtd.candidate.select',
        'rtd.decree.issue',
        'rtd.accept',
        'rtd.publication.record',
        'rtd.ipa.confirm',
      ]),
    );
  });

  const offered = (s: AnyMachineSnapshot, actor: Actor) =>
    allowedEventsFor(def, s, actor, BASSA_REGGIANA, def.participants(s));
  function play(events: MachineEvent[]): AnyMachineSnapshot {
    let s = initialTransition(
      rtdMachine,
      rtdInput({}, { members: BASSA_REGGIANA_COMUNI.slice(0, 1) }),
    )[0] as AnyMachineSnapshot;
    for (const e of events) {
      const [next] = transition(rtdMachine, s as never, e as never);
      if (next === s) throw new Error(`refused: ${e.type}`);
      s = next as AnyMachineSnapshot;
    }
    return s;
  }

  it('a candidate lacking a requirement: the decree is not offered to the presidente (it would be 422)', () => {
    const presidente = person('presidente', BASSA_REGGIANA);
    const s = play([
      ev(
        'rtd.candidate.select',
        candidatePayload({ competences: { tecnologiche: true, giuridiche: true } }),
        AT('2026-01-10'),
        STAFF,
      ),
    ]);
    expect(rtdStateLabel(s)).toBe('CANDIDATE_SELECTED');
    expect(offered(s, presidente).map((e) => e.type)).not.toContain('rtd.decree.issue');
    expect(() =>
      decideEvent(
        def,
        s,
        as(
          ev('rtd.decree.issue', decreePayload({}, [BASSA_REGGIANA, COMUNE]), AT('2026-01-20')),
          presidente,
        ),
        presidente,
        BASSA_REGGIANA,
        def.participants(s),
      ),
    ).toThrow(/competenze manageriali/);
  });

  it('ACTIVE with no successor chosen: no decree offered; an ente that confirmed IPA is not offered it again', () => {
    const presidente = person('presidente', BASSA_REGGIANA);
    const appointee = person('appointee', BASSA_REGGIANA, CF_FIRST);
    const s = play([
      ev('rtd.candidate.select', candidatePayload(), AT('2026-01-10'), STAFF),
      ev('rtd.decree.issue', decreePayload({}, [BASSA_REGGIANA, COMUNE]), AT('2026-01-20')),
      ev('rtd.accept', ALL_DECLARATIONS, AT('2026-01-23'), {
        subject: CF_FIRST,
        role: 'appointee',
        ente: BASSA_REGGIANA,
      }),
      ev(
        'rtd.publication.record',
        { channel: 'ALBO', date: '2026-01-24', reference: 'Albo 1' },
        AT('2026-01-24'),
        STAFF,
      ),
      ev(
        'rtd.publication.record',
        { channel: 'AMMINISTRAZIONE_TRASPARENTE', date: '2026-01-24', reference: 'AT' },
        AT('2026-01-24'),
        STAFF,
      ),
      ev(
        'rtd.ipa.confirm',
        { ente: BASSA_REGGIANA, registeredOn: '2026-01-25' },
        AT('2026-01-25'),
        { subject: 's', role: 'segretario', ente: BASSA_REGGIANA },
      ),
    ]);
    expect(rtdStateLabel(s)).toBe('PUBLISHED');
    // the Unione confirmed, the comune did not yet
    expect(offered(s, person('segretario', BASSA_REGGIANA)).map((e) => e.type)).not.toContain(
      'rtd.ipa.confirm',
    );
    expect(offered(s, person('segretario', COMUNE))).toContainEqual(
      expect.objectContaining({ type: 'rtd.ipa.confirm', entes: [COMUNE] }),
    );
    const active = transition(
      rtdMachine,
      s as never,
      ev('rtd.ipa.confirm', { ente: COMUNE, registeredOn: '2026-01-26' }, AT('2026-01-26'), {
        subject: 's',
        role: 'segretario',
        ente: COMUNE,
      }) as never,
    )[0] as AnyMachineSnapshot;
    expect(rtdStateLabel(active)).toBe('ACTIVE');
    expect(offered(active, presidente).map((e) => e.type)).not.toContain('rtd.decree.issue');
    expect(offered(active, person('segretario', COMUNE))).toEqual([]);
    expect(offered(active, appointee)).toEqual([]);
    // once the successor is chosen, the decree is offered (and accepted)
    const chosen = transition(
      rtdMachine,
      active as never,
      ev(
        'rtd.candidate.select',
        candidatePayload({ codiceFiscale: CF_SECOND }),
        AT('2026-03-01'),
        STAFF,
      ) as never,
    )[0] as AnyMachineSnapshot;
    expect(offered(chosen, presidente).map((e) => e.type)).toContain('rtd.decree.issue');
  });
});
