/**
 * `allowedEvents` says only what is true (issue 10, "Answers"): over the reachable states of the convention
 * (the two @xstate/graph models of test/factories/convention-graph.factory.ts) and for every kind of actor,
 * every event offered is accepted with a valid payload by the very decision the engine runs on a send
 * (`decideEvent`: authorization, state, rule, transition), and every event NOT offered is refused with a
 * documented code (403 FORBIDDEN, 409 TRANSITION_NOT_ALLOWED, 422 RULE_VIOLATION with a rule listed in
 * docs/convention.md) — never the reasonless GUARD_REFUSED. Pure: no database, no clock.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getShortestPaths } from '@xstate/graph';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { addCalendarDays, toRomeDate } from '@app/calendar';
import {
  DomainError,
  RuleViolationError,
  TransitionNotAllowedError,
  type Actor,
  type Role,
} from '@app/common';
import {
  conventionDefinitionV1,
  conventionMachine,
  conventionStateLabel,
  type ConventionContext,
  type ConventionEvent,
  type ConventionPolicy,
  type EnteFacts,
  type MachineEvent,
} from '@app/workflows';
import {
  BIENTINA,
  CHIANNI,
  CHIANNI_FACTS,
  MIRACOLI,
  PONTEDERA,
  SCHEMA_TEXT_V1,
  VALDERA,
  VALDERA_COMUNI,
  adhesionOpenEvent,
  approvedEvent,
  approvedIeEvent,
  certifyEvent,
  expireEvent,
  freezeEvent,
  sendEvent,
  sha256,
  signEvent,
  smallConventionInput,
  votes,
} from '../../../test/factories/convention.factory';
import {
  G_INPUT,
  graphEvents,
  lifeEvents,
  type Snap,
} from '../../../test/factories/convention-graph.factory';
import { roleFor } from './authorization';
import { decideEvent } from './decide';
import { allowedEventsFor } from './process-view';
import { validatePayload } from './validation';

const def = conventionDefinitionV1;
const label = (s: Snap): string => conventionStateLabel(s);

/** the rule codes docs/convention.md documents (its "Rules" section) */
function documentedRules(): Set<string> {
  const doc = readFileSync(join(__dirname, '../../../docs/convention.md'), 'utf8');
  const section = doc.slice(
    doc.indexOf('## Rules'),
    doc.indexOf('\n## ', doc.indexOf('## Rules') + 1),
  );
  return new Set([...section.matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]!));
}

// ---------------------------------------------------------------- reachable states

interface Probe {
  snapshot: Snap;
  /** a moment after every event of the path (30 days after the last one) */
  at: string;
}

type PathLike = { state: Snap; steps: { event: { type: string; at?: string } }[] };

function reachable(): Probe[] {
  const approval = getShortestPaths(conventionMachine, {
    input: G_INPUT,
    events: graphEvents,
    limit: 20_000,
  }) as unknown as PathLike[];
  const fullyInForce = approval
    .filter(
      (p) =>
        label(p.state) === 'IN_FORCE' && p.state.context.entes.every((e) => e.status === 'SIGNED'),
    )
    .sort((a, b) => a.steps.length - b.steps.length)[0]!;
  const later = getShortestPaths(conventionMachine, {
    input: G_INPUT,
    fromState: fullyInForce.state,
    events: lifeEvents,
    limit: 20_000,
  }) as unknown as PathLike[];
  const lastAt = (p: PathLike, floor = ''): string =>
    p.steps.reduce((m, st) => (st.event.at && st.event.at > m ? st.event.at : m), floor);
  const inForceAt = lastAt(fullyInForce);
  // one probe per distinct situation of the entes (the exact dates and numbers do not change the answers)
  const seen = new Map<string, Probe>();
  for (const p of [...approval.map((x) => [x, '']), ...later.map((x) => [x, inForceAt])] as [
    PathLike,
    string,
  ][]) {
    const s = p[0].state;
    const c = s.context;
    const key = JSON.stringify([
      label(s),
      c.amending,
      c.textVersions.length,
      c.entes.map((e) => [
        e.codiceIpa,
        e.status,
        e.joining,
        e.recesso !== null,
        e.acts.map((a) => a.act),
        e.deadline?.overdue,
        e.deadline?.extensions,
      ]),
    ]);
    if (seen.has(key)) continue;
    const last = lastAt(p[0], p[1]) || '2026-01-01T00:00:00.000Z';
    seen.set(key, {
      snapshot: s,
      at: new Date(Date.parse(last) + 30 * 86_400_000).toISOString(),
    });
  }
  return [...seen.values()];
}

// ---------------------------------------------------------------- actors

/** a token's holder, with its ente's standing as the engine resolves it from the registry (every comune here is Valdera's) */
const person = (role: Role, ente: string | null, unione: string | null = VALDERA): Actor => ({
  subject: `${role}@${ente ?? 'platform'}`,
  roles: [role],
  ente,
  unione,
  standing:
    ente === null
      ? null
      : ente === VALDERA || ente === MIRACOLI
        ? { kind: 'UNIONE', unione: ente }
        : { kind: 'COMUNE', unione: VALDERA },
});
const BUTI = VALDERA_COMUNI.find((c) => c.denominazione === 'Buti')!.codiceIpa;

/** the Unione's people, each ente's segretario and signer, a comune of the Unione outside the process, strangers */
function actorsOf(c: ConventionContext): Actor[] {
  const out: Actor[] = [
    person('presidente', VALDERA),
    person('staff', VALDERA),
    person('gruppo_lavoro', VALDERA),
  ];
  for (const e of c.entes) {
    out.push(person('segretario', e.codiceIpa));
    if (e.kind === 'COMUNE') out.push(person('sindaco', e.codiceIpa));
  }
  out.push(person('segretario', BUTI), person('sindaco', BUTI));
  out.push(person('presidente', MIRACOLI, MIRACOLI), person('admin', null, null));
  return out;
}

// ---------------------------------------------------------------- valid payloads

const FACTS: Record<string, EnteFacts> = {
  [CHIANNI]: CHIANNI_FACTS,
  [BUTI]: VALDERA_COMUNI.find((f) => f.codiceIpa === BUTI)!,
};

/**
 * A payload that passes the DTO and every payload check of the event's rule whenever its precondition holds:
 * dates today (Rome) or earlier, the current text's hash, a number not used yet, the parere tecnico.
 * Returns the payload as sent over HTTP and the extra facts the engine resolves (adhesion).
 */
function validPayload(
  type: string,
  c: ConventionContext,
  ente: string,
  at: string,
): { sent: Record<string, unknown>; resolved?: Record<string, unknown> } {
  const today = toRomeDate(new Date(at));
  const row = c.entes.find((e) => e.codiceIpa === ente);
  switch (type) {
    case 'convention.freeze':
      return { sent: { text: SCHEMA_TEXT_V1 } };
    case 'convention.send':
      return { sent: { deliveredAt: at } };
    case 'convention.council.convene':
      return { sent: { ente, sessionDate: addCalendarDays(today, 10), noticeDate: today } };
    case 'convention.deliberation.record':
      return {
        sent: {
          ente,
          number: '999',
          date: today,
          outcome: 'APPROVED',
          textHash: c.text?.sha256 ?? sha256('nessun testo'),
          pareri: [{ type: 'TECNICO', outcome: 'FAVOREVOLE', signer: 'Resp. ICT', date: today }],
          votes: votes(10, 17),
        },
      };
    case 'convention.executivity.certify': {
      const p = row?.deliberation?.date ?? addCalendarDays(today, -20);
      return { sent: { ente, publicationStart: p, executiveOn: addCalendarDays(p, 11) } };
    }
    case 'convention.sign':
      return {
        sent: { ente, signedAt: at, signatureType: 'FIRMA_DIGITALE', digitalSignature: true },
      };
    case 'convention.amendment.accept':
    case 'convention.amendment.open':
      return {
        sent: { text: `${SCHEMA_TEXT_V1}\nArt. 9 - Modifica ${c.textVersions.length + 1}` },
      };
    case 'convention.amendment.refuse':
    case 'convention.abandon':
      return { sent: { reason: 'Motivazione' } };
    case 'convention.adhesion.open': {
      const outside = [CHIANNI, BUTI].find((code) => {
        const known = c.entes.find((e) => e.codiceIpa === code);
        return !known || ['REJECTED', 'NON_ADERENTE', 'RECEDUTO'].includes(known.status);
      })!;
      return { sent: { ente: outside }, resolved: { enteFacts: FACTS[outside] } };
    }
    case 'convention.adhesion.accept': {
      const ready = c.entes.find((e) => e.joining && e.status === 'EXECUTIVE');
      return { sent: { ente: ready?.codiceIpa ?? CHIANNI, number: '998', date: today } };
    }
    case 'convention.recesso.record':
      return {
        sent: {
          ente,
          number: '997',
          date: today,
          effectiveDate: addCalendarDays(today, c.policy.recessoNoticeDays),
        },
      };
    case 'convention.renewal.record':
    case 'convention.dissolution.record':
      return { sent: { ente, number: '996', date: today } };
    case 'convention.deadline.extend':
      return { sent: { days: 30, reason: 'Consiglio convocato oltre il termine' } };
    case 'convention.delivery.record': {
      const open = c.entes.find((e) => !e.delivery)!;
      return { sent: { ente: open.codiceIpa, deliveredAt: at } };
    }
    default:
      throw new Error(`no payload for ${type}`);
  }
}

// ---------------------------------------------------------------- the check

describe('allowedEvents = exactly what would be accepted', () => {
  const probes = reachable();
  const documented = documentedRules();
  const userTypes = Object.entries(def.events)
    .filter(([, spec]) => spec.scope !== 'system')
    .map(([type]) => type);

  it('explores many reachable states, every label but the final ones', () => {
    const labels = new Set(probes.map((p) => label(p.snapshot)));
    for (const l of [
      'DRAFT',
      'FROZEN',
      'IN_DELIBERATION',
      'STALLED',
      'AMENDMENT_PENDING',
      'APPROVED_ALL',
      'APPROVED_PARTIAL',
      'READY_TO_SIGN',
      'SIGNED',
      'IN_FORCE',
    ])
      expect(labels).toContain(l);
    expect(probes.length).toBeGreaterThan(100);
  });

  it('every offered event is accepted; every other one is refused with a documented code', async () => {
    const failures: string[] = [];
    const offeredTypes = new Set<string>();
    let decisions = 0;
    for (const { snapshot, at } of probes) {
      const s = snapshot as AnyMachineSnapshot;
      const c = snapshot.context;
      const participants = def.participants(s);
      for (const actor of actorsOf(c)) {
        const offered = allowedEventsFor(def, s, actor, VALDERA, participants);
        for (const type of userTypes) {
          const spec = def.events[type]!;
          // ente-scoped: for one's own ente, and for another ente of the process
          const other = c.entes.find((e) => e.codiceIpa !== actor.ente)?.codiceIpa ?? BIENTINA;
          const entes =
            spec.scope === 'ente' ? [actor.ente ?? BIENTINA, other] : [actor.ente ?? ''];
          for (const ente of entes) {
            const isOffered = offered.some(
              (o) => o.type === type && (spec.scope !== 'ente' || (o.entes ?? []).includes(ente)),
            );
            const { sent, resolved } = validPayload(type, c, ente, at);
            const event: MachineEvent = {
              type,
              payload: { ...sent, ...resolved },
              actor: { subject: actor.subject, role: roleFor(spec, actor), ente: actor.ente },
              at,
            };
            const where = `${label(snapshot)} ${actor.roles[0]}@${actor.ente} ${type} ${ente}`;
            decisions++;
            let error: unknown = null;
            try {
              decideEvent(def, s, event, actor, VALDERA, participants);
            } catch (err) {
              error = err;
            }
            if (isOffered) {
              offeredTypes.add(type);
              await validatePayload(spec.payload, sent, 'payload').catch((err: unknown) =>
                failures.push(`${where}: invalid test payload ${String(err)}`),
              );
              if (error !== null)
                failures.push(
                  `${where}: offered but refused ${(error as DomainError).code} ${(error as { rule?: string }).rule ?? ''} ${(error as Error).message}`,
                );
            } else if (error === null) {
              failures.push(`${where}: not offered but accepted`);
            } else if (!(error instanceof DomainError)) {
              failures.push(`${where}: not offered, refused by ${(error as Error).message}`);
            } else if (error instanceof RuleViolationError) {
              if (!documented.has(error.rule))
                failures.push(`${where}: refused with an undocumented rule ${error.rule}`);
            } else if (!['FORBIDDEN', 'TRANSITION_NOT_ALLOWED'].includes(error.code)) {
              failures.push(`${where}: refused with ${error.code}`);
            } else if (error instanceof TransitionNotAllowedError) {
              // the 409 lists exactly what the view offers this caller
              const listed = [...error.allowedEvents].sort();
              const mine = offered.map((o) => o.type).sort();
              if (JSON.stringify(listed) !== JSON.stringify(mine))
                failures.push(
                  `${where}: 409 lists ${listed.join(',')}, the view ${mine.join(',')}`,
                );
            }
          }
        }
      }
    }
    expect(failures.slice(0, 30)).toEqual([]);
    // the check is not empty: every event a person sends was offered (and accepted) somewhere
    expect([...offeredTypes].sort()).toEqual([...userTypes].sort());
    expect(decisions).toBeGreaterThan(10_000);
  });

  it('GUARD_REFUSED is not a documented rule: the machine never refuses what the rule allows', () => {
    expect(documented.has('GUARD_REFUSED')).toBe(false);
    expect(documented.has('ENTE_NOT_PARTICIPANT')).toBe(true);
  });
});

// ---------------------------------------------------------------- the cases of issue 10, one by one

describe('the cases the issue lists', () => {
  function play(policy: Partial<ConventionPolicy>, events: readonly ConventionEvent[]): Snap {
    let s = initialTransition(conventionMachine, smallConventionInput(policy))[0];
    for (const e of events) {
      const [next] = transition(conventionMachine, s, e);
      if (next === s) throw new Error(`refused: ${e.type} at ${e.at}`);
      s = next;
    }
    return s;
  }
  const offered = (s: Snap, actor: Actor): string[] =>
    allowedEventsFor(def, s as AnyMachineSnapshot, actor, VALDERA, def.participants(s)).map(
      (e) => e.type,
    );
  /** the refusal code (and rule) of sending it with a valid payload */
  function refusal(s: Snap, actor: Actor, type: string, ente: string): string {
    const at = '2030-01-01T09:00:00.000Z';
    const { sent, resolved } = validPayload(type, s.context, ente, at);
    const spec = def.events[type]!;
    try {
      decideEvent(
        def,
        s as AnyMachineSnapshot,
        {
          type,
          payload: { ...sent, ...resolved },
          actor: { subject: actor.subject, role: roleFor(spec, actor), ente: actor.ente },
          at,
        },
        actor,
        VALDERA,
        def.participants(s),
      );
      return 'ACCEPTED';
    } catch (err) {
      return err instanceof RuleViolationError ? err.rule : (err as DomainError).code;
    }
  }
  const SENT = [
    freezeEvent('2026-03-01T08:00:00.000Z'),
    sendEvent('2026-03-02', '2026-03-02T09:00:00.000Z'),
  ];
  const ie = (e: string, n: string) =>
    approvedIeEvent(e, n, '2026-03-05', '2026-03-05T18:00:00.000Z');
  const inForce = play({}, [
    ...SENT,
    ie(VALDERA, '1'),
    ie(BIENTINA, '2'),
    ie(PONTEDERA, '3'),
    ...[VALDERA, BIENTINA, PONTEDERA].map((e) =>
      signEvent(e, '2026-03-10T09:00:00.000Z', '2026-03-10T09:00:00.000Z'),
    ),
  ]);

  it('after IN_FORCE the presidente and a sindaco who signed are not offered convention.sign (ALREADY_SIGNED)', () => {
    expect(label(inForce)).toBe('IN_FORCE');
    expect(offered(inForce, person('presidente', VALDERA))).not.toContain('convention.sign');
    expect(offered(inForce, person('sindaco', BIENTINA))).not.toContain('convention.sign');
    expect(refusal(inForce, person('presidente', VALDERA), 'convention.sign', VALDERA)).toBe(
      'ALREADY_SIGNED',
    );
    expect(refusal(inForce, person('sindaco', BIENTINA), 'convention.sign', BIENTINA)).toBe(
      'ALREADY_SIGNED',
    );
  });

  it('adhesion.accept is offered only when somebody is joining (ADHESION_NOT_READY otherwise)', () => {
    expect(offered(inForce, person('presidente', VALDERA))).not.toContain(
      'convention.adhesion.accept',
    );
    expect(refusal(inForce, person('presidente', VALDERA), 'convention.adhesion.accept', '')).toBe(
      'ADHESION_NOT_READY',
    );
  });

  it('a comune not yet admitted is not offered recesso, renewal or dissolution', () => {
    const joining = play({}, [
      ...SENT,
      ie(VALDERA, '1'),
      ie(BIENTINA, '2'),
      ie(PONTEDERA, '3'),
      ...[VALDERA, BIENTINA, PONTEDERA].map((e) =>
        signEvent(e, '2026-03-10T09:00:00.000Z', '2026-03-10T09:00:00.000Z'),
      ),
      adhesionOpenEvent(CHIANNI_FACTS, '2027-03-01T09:00:00.000Z'),
    ]);
    const segretario = person('segretario', CHIANNI);
    const mine = offered(joining, segretario);
    expect(mine).toEqual(['convention.deliberation.record']);
    expect(refusal(joining, segretario, 'convention.recesso.record', CHIANNI)).toBe(
      'NOT_AN_ACTIVE_COMUNE',
    );
    expect(refusal(joining, segretario, 'convention.renewal.record', CHIANNI)).toBe(
      'NOT_AN_ACTIVE_PARTICIPANT',
    );
    expect(refusal(joining, segretario, 'convention.dissolution.record', CHIANNI)).toBe(
      'NOT_AN_ACTIVE_PARTICIPANT',
    );
    // and an amendment waits for the adhesion to end
    expect(offered(joining, person('presidente', VALDERA))).not.toContain(
      'convention.amendment.open',
    );
    // a founding comune may recede, renew, dissolve
    expect(offered(joining, person('segretario', BIENTINA))).toEqual(
      expect.arrayContaining([
        'convention.recesso.record',
        'convention.renewal.record',
        'convention.dissolution.record',
      ]),
    );
  });

  it('a comune that has deliberated is not offered deliberation.record, nor executivity.certify once executive', () => {
    const approved = play({}, [
      ...SENT,
      approvedEvent(BIENTINA, '2', '2026-03-05', '2026-03-05T18:00:00.000Z'),
    ]);
    const segretario = person('segretario', BIENTINA);
    expect(offered(approved, segretario)).toEqual(['convention.executivity.certify']);
    expect(refusal(approved, segretario, 'convention.deliberation.record', BIENTINA)).toBe(
      'DELIBERATION_ALREADY_RECORDED',
    );
    const executive = play({}, [
      ...SENT,
      approvedEvent(BIENTINA, '2', '2026-03-05', '2026-03-05T18:00:00.000Z'),
      certifyEvent(BIENTINA, '2026-03-06', '2026-03-17', '2026-03-18T09:00:00.000Z'),
    ]);
    expect(offered(executive, segretario)).toEqual([]);
    expect(refusal(executive, segretario, 'convention.executivity.certify', BIENTINA)).toBe(
      'EXECUTIVITY_NOT_APPLICABLE',
    );
    expect(refusal(executive, segretario, 'convention.deliberation.record', BIENTINA)).toBe(
      'DELIBERATION_ALREADY_RECORDED',
    );
  });

  it("a NON_ADERENTE comune's sindaco is not offered convention.sign and is refused with ENTE_NOT_PARTICIPANT", () => {
    const quorum: Partial<ConventionPolicy> = {
      approval: 'QUORUM',
      quorumMinEntes: 1,
      nonDeliberating: 'EXTEND_ONCE_THEN_NON_ADERENTE',
    };
    const sent = play(quorum, [...SENT, ie(VALDERA, '1'), ie(BIENTINA, '2')]);
    const first = sent.context.entes.find((e) => e.codiceIpa === PONTEDERA)!.deadline!;
    const extended = play(quorum, [
      ...SENT,
      ie(VALDERA, '1'),
      ie(BIENTINA, '2'),
      expireEvent(PONTEDERA, first.dueAt, first.dueAt),
    ]);
    const second = extended.context.entes.find((e) => e.codiceIpa === PONTEDERA)!.deadline!;
    const ready = play(quorum, [
      ...SENT,
      ie(VALDERA, '1'),
      ie(BIENTINA, '2'),
      expireEvent(PONTEDERA, first.dueAt, first.dueAt),
      expireEvent(PONTEDERA, second.dueAt, second.dueAt),
    ]);
    expect(label(ready)).toBe('READY_TO_SIGN');
    const sindaco = person('sindaco', PONTEDERA);
    expect(offered(ready, sindaco)).toEqual([]);
    expect(refusal(ready, sindaco, 'convention.sign', PONTEDERA)).toBe('ENTE_NOT_PARTICIPANT');
    // the round is over: a late deliberation is refused by the state
    expect(
      refusal(ready, person('segretario', PONTEDERA), 'convention.deliberation.record', PONTEDERA),
    ).toBe('TRANSITION_NOT_ALLOWED');
    expect(offered(ready, person('sindaco', BIENTINA))).toEqual(['convention.sign']);
  });
});
