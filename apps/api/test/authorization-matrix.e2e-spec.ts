import 'reflect-metadata';
import { ROLES, type Actor, type Role } from '@app/common';
import {
  acceptedEventTypes,
  defaultRegistry,
  type EventSpec,
  type ProcessDefinition,
} from '@app/workflows';
import { startHarness, type Harness } from '../../../test/support/harness';
import { sha256, unione } from '../../../test/support/scenario';
import {
  ALL_DECLARATIONS,
  CF_FIRST,
  candidatePayload,
  decreePayload,
} from '../../../test/factories/rtd.factory';

/**
 * Issue #5: the authorization matrix, generated from the definitions' metadata. For every definition, every
 * public event (scope `unione` or `ente`), every role a token may carry and three places the caller can
 * stand — its own ente, another ente of the same Unione, another Unione — the expected answer is derived
 * from the metadata alone (roles + scope, as documented in libs/workflows/src/definition.ts):
 *   - another Unione                        → 404, the process does not exist for it;
 *   - role not in `roles`, or wrong ente    → 403 FORBIDDEN;
 *   - otherwise                             → passes authorization: 200, or 409/422 if the state or a
 *                                              domain rule refuses it afterwards (never 400, 401, 403, 404).
 * Every refused cell must leave the process exactly as it was (version, audit events, chain head).
 *
 * Speed: one instance per stage serves every refused cell (they change nothing); each allowed cell gets a
 * fresh instance built through the engine, so it can really apply.
 */
const registry = defaultRegistry();
const TOKEN_ROLES = ROLES.filter((r): r is Exclude<Role, 'system'> => r !== 'system');
const v = unione('valdera');
const m = unione('miracoli');
const U = v.ipa;
const [X, Y, Z] = v.comuni as [string, string, string, ...string[]];
/** the process: the Unione and two of its comuni; Z is a Valdera comune that does not take part */
const MEMBERS = [X, Y];
const PARTICIPANTS = [U, ...MEMBERS];
const TEXT = 'Convenzione ICT, matrice di autorizzazione';
/** the engine clock while the cells run: after every date the payloads and the stage builders use */
const CELL_TIME = new Date('2026-05-04T09:00:00Z');

// ------------------------------------------------------------------ per-definition fixtures

type StageName =
  'draft' | 'frozen' | 'sent' | 'approvedX' | 'amending' | 'ready' | 'inForce' | 'joining';
const STAGES: StageName[] = [
  'draft',
  'frozen',
  'sent',
  'approvedX',
  'amending',
  'ready',
  'inForce',
  'joining',
];

interface DefinitionFixture {
  /** the stage (state) in which each public event is accepted */
  stageOf: Record<string, StageName>;
  /** a payload that the event's DTO and rules accept in that stage, acting for `ente` */
  payload(type: string, ente: string): Record<string, unknown>;
}

/** an ente's deliberation numbers are unique per organ and year across every process: never reuse one */
let lastNumber = 0;
const nextNumber = () => String(++lastNumber);
const PARERI = [
  {
    type: 'TECNICO',
    outcome: 'FAVOREVOLE',
    signer: 'Il responsabile del servizio',
    date: '2026-02-20',
  },
];

const FIXTURES: Record<string, DefinitionFixture> = {
  convenzione: {
    stageOf: {
      'convention.freeze': 'draft',
      'convention.abandon': 'draft',
      'convention.send': 'frozen',
      'convention.council.convene': 'sent',
      'convention.deliberation.record': 'sent',
      'convention.deadline.extend': 'sent',
      'convention.executivity.certify': 'approvedX',
      'convention.amendment.accept': 'amending',
      'convention.amendment.refuse': 'amending',
      'convention.sign': 'ready',
      'convention.amendment.open': 'inForce',
      'convention.adhesion.open': 'inForce',
      'convention.recesso.record': 'inForce',
      'convention.renewal.record': 'inForce',
      'convention.dissolution.record': 'inForce',
      'convention.adhesion.accept': 'joining',
    },
    payload(type, ente) {
      switch (type) {
        case 'convention.freeze':
          return { text: TEXT };
        case 'convention.abandon':
          return { reason: 'Archiviato per la matrice' };
        case 'convention.send':
          return { deliveredAt: '2026-02-05T09:00:00Z' };
        case 'convention.council.convene':
          return { ente, sessionDate: '2026-03-20', noticeDate: '2026-03-10' };
        case 'convention.deliberation.record':
          return {
            ente,
            number: nextNumber(),
            date: '2026-03-02',
            outcome: 'APPROVED',
            textHash: sha256(TEXT),
            pareri: PARERI,
          };
        case 'convention.deadline.extend':
          return { days: 10, reason: 'Proroga motivata' };
        case 'convention.executivity.certify':
          return { ente, publicationStart: '2026-03-09', executiveOn: '2026-03-20' };
        case 'convention.amendment.accept':
        case 'convention.amendment.open':
          return { text: `${TEXT}, emendata` };
        case 'convention.amendment.refuse':
          return { reason: 'Emendamento non accolto' };
        case 'convention.sign':
          return {
            ente,
            signedAt: '2026-03-25T08:00:00Z',
            signatureType: 'FIRMA_DIGITALE',
            digitalSignature: true,
          };
        case 'convention.adhesion.open':
          return { ente: Z };
        case 'convention.adhesion.accept':
          return { ente: Z, number: nextNumber(), date: '2026-05-02' };
        case 'convention.recesso.record':
          return { ente, number: nextNumber(), date: '2026-05-01', effectiveDate: '2026-12-31' };
        case 'convention.renewal.record':
        case 'convention.dissolution.record':
          return { ente, number: nextNumber(), date: '2026-05-01' };
        case 'convention.reminder':
          return { ente, daysBefore: 7 };
        case 'convention.deadline.expire':
          return { ente, dueAt: '2026-04-07T21:59:59.999Z' };
        case 'convention.decorrenza.reach':
          return { date: '2026-04-01' };
        default:
          throw new Error(
            `no payload fixture for ${type}: add it to authorization-matrix.e2e-spec.ts`,
          );
      }
    },
  },
};

/** the RTD fixture's appointee: an `appointee` token's subject is the person's codice fiscale (docs/rtd.md) */
const APPOINTEE_CF = CF_FIRST;
FIXTURES['rtd'] = {
  stageOf: {
    'rtd.candidate.select': 'draft',
    'rtd.candidate.withdraw': 'frozen',
    'rtd.decree.issue': 'frozen',
    'rtd.notification.record': 'sent',
    'rtd.accept': 'sent',
    'rtd.decline': 'sent',
    'rtd.revoke': 'sent',
    'rtd.resignation.record': 'sent',
    'rtd.incarico.end': 'sent',
    'rtd.publication.record': 'approvedX',
    'rtd.ipa.confirm': 'ready',
  },
  payload(type, ente) {
    switch (type) {
      case 'rtd.candidate.select':
        return candidatePayload();
      case 'rtd.candidate.withdraw':
      case 'rtd.decline':
        return { reason: 'Matrice di autorizzazione' };
      case 'rtd.decree.issue':
        return decreePayload(
          {
            act: { type: 'DECRETO', number: nextNumber(), date: '2026-05-01' },
            startDate: '2026-05-10',
          },
          PARTICIPANTS,
        );
      case 'rtd.notification.record':
        return { deliveredAt: '2026-05-01T09:00:00Z' };
      case 'rtd.accept':
        return ALL_DECLARATIONS;
      case 'rtd.revoke':
        return {
          number: nextNumber(),
          date: '2026-05-02',
          effectiveDate: '2026-05-20',
          reason: 'Revoca motivata',
        };
      case 'rtd.resignation.record':
        return { date: '2026-05-02', effectiveDate: '2026-05-20' };
      case 'rtd.incarico.end':
        return { date: '2026-05-20', reason: 'Cessazione EQ' };
      case 'rtd.publication.record':
        return { channel: 'ALBO', date: '2026-05-01', reference: 'Albo 1/2026' };
      case 'rtd.ipa.confirm':
        return { ente, registeredOn: '2026-05-01' };
      default:
        throw new Error(
          `no payload fixture for ${type}: add it to authorization-matrix.e2e-spec.ts`,
        );
    }
  },
};

const actorOf = (role: Role, ente: string, unioneIpa: string = U): Actor => ({
  subject: role === 'appointee' ? APPOINTEE_CF : `${role}.${ente}`,
  roles: [role],
  ente,
  unione: unioneIpa,
});

/** Build an instance of `convenzione` at a stage through the engine, each step at its own story time. */
async function buildConvention(h: Harness, stage: StageName): Promise<string> {
  const pres = actorOf('presidente', U);
  let id = '';
  const step = async (at: string, actor: Actor, type: string, payload: Record<string, unknown>) => {
    h.clock.set(new Date(at));
    try {
      await h.engine.dispatch(id, { type, payload }, actor);
    } catch (err) {
      throw new Error(
        `building stage ${stage}: ${type} by ${actor.subject} refused: ${(err as Error).message} ${JSON.stringify((err as { details?: unknown }).details ?? {})}`,
      );
    }
  };
  const deliberate = (
    at: string,
    ente: string,
    date: string,
    extra: Record<string, unknown> = {},
  ) =>
    step(at, actorOf('segretario', ente), 'convention.deliberation.record', {
      ente,
      number: nextNumber(),
      date,
      outcome: 'APPROVED',
      textHash: sha256(TEXT),
      pareri: PARERI,
      ...extra,
    });
  const certify = (at: string, ente: string, publicationStart: string, executiveOn: string) =>
    step(at, actorOf('segretario', ente), 'convention.executivity.certify', {
      ente,
      publicationStart,
      executiveOn,
    });
  const sign = (ente: string) =>
    step(
      '2026-03-25T09:00:00Z',
      actorOf(ente === U ? 'presidente' : 'sindaco', ente),
      'convention.sign',
      {
        ente,
        signedAt: '2026-03-25T08:00:00Z',
        signatureType: 'FIRMA_DIGITALE',
        digitalSignature: true,
      },
    );
  try {
    h.clock.set(new Date('2026-02-01T09:00:00Z'));
    ({ id } = await h.engine.start(
      { definition: 'convenzione', input: { title: 'Matrice', unione: U, members: MEMBERS } },
      pres,
    ));
    if (stage === 'draft') return id;
    await step('2026-02-02T09:00:00Z', pres, 'convention.freeze', { text: TEXT });
    if (stage === 'frozen') return id;
    await step('2026-02-10T09:00:00Z', pres, 'convention.send', {
      deliveredAt: '2026-02-05T09:00:00Z',
    });
    if (stage === 'sent') return id;
    if (stage === 'amending') {
      await deliberate('2026-03-10T09:00:00Z', X, '2026-03-02', {
        outcome: 'APPROVED_WITH_AMENDMENTS',
        amendments: 'Art. 4: riparto per abitanti',
        textHash: sha256(`${TEXT}, emendata`),
      });
      return id;
    }
    await deliberate('2026-03-10T09:00:00Z', X, '2026-03-02');
    if (stage === 'approvedX') return id;
    await deliberate('2026-03-10T09:00:00Z', Y, '2026-03-02');
    await deliberate('2026-03-10T09:00:00Z', U, '2026-03-02');
    for (const e of PARTICIPANTS)
      await certify('2026-03-25T09:00:00Z', e, '2026-03-09', '2026-03-20');
    if (stage === 'ready') return id;
    for (const e of PARTICIPANTS) await sign(e);
    if (stage === 'inForce') return id;
    // a comune of the Unione joins later: invited, deliberates, its deliberation becomes executive
    await step('2026-04-01T09:00:00Z', pres, 'convention.adhesion.open', { ente: Z });
    await deliberate('2026-04-10T09:00:00Z', Z, '2026-04-08');
    await certify('2026-04-30T09:00:00Z', Z, '2026-04-09', '2026-04-20');
    return id;
  } finally {
    h.clock.set(CELL_TIME);
  }
}

/**
 * Build an RTD process at a stage: the convention in force (the worker would open the RTD by itself; here
 * the presidente starts it, the same engine path), then the appointment up to the stage. Stage names are
 * the convention's, mapped: draft VACANT, frozen CANDIDATE_SELECTED, sent APPOINTED, approvedX ACCEPTED,
 * ready PUBLISHED, the others ACTIVE.
 */
async function buildRtd(h: Harness, stage: StageName): Promise<string> {
  const conv = await buildConvention(h, 'inForce');
  const pres = actorOf('presidente', U);
  const staff = actorOf('staff', U);
  let id = '';
  const step = async (at: string, actor: Actor, type: string, payload: Record<string, unknown>) => {
    h.clock.set(new Date(at));
    try {
      await h.engine.dispatch(id, { type, payload }, actor);
    } catch (err) {
      throw new Error(
        `building RTD stage ${stage}: ${type} refused: ${(err as Error).message} ${JSON.stringify((err as { details?: unknown }).details ?? {})}`,
      );
    }
  };
  try {
    h.clock.set(new Date('2026-04-01T09:00:00Z'));
    ({ id } = await h.engine.start({ definition: 'rtd', input: { convention: conv } }, pres));
    if (stage === 'draft') return id;
    await step('2026-04-02T09:00:00Z', staff, 'rtd.candidate.select', candidatePayload());
    if (stage === 'frozen') return id;
    await step(
      '2026-04-03T09:00:00Z',
      pres,
      'rtd.decree.issue',
      decreePayload(
        {
          act: { type: 'DECRETO', number: nextNumber(), date: '2026-04-03' },
          startDate: '2026-04-10',
        },
        PARTICIPANTS,
      ),
    );
    if (stage === 'sent') return id;
    await step('2026-04-05T09:00:00Z', actorOf('appointee', U), 'rtd.accept', ALL_DECLARATIONS);
    if (stage === 'approvedX') return id;
    for (const channel of ['ALBO', 'AMMINISTRAZIONE_TRASPARENTE'])
      await step('2026-04-06T09:00:00Z', staff, 'rtd.publication.record', {
        channel,
        date: '2026-04-06',
        reference: 'Matrice',
      });
    if (stage === 'ready') return id;
    for (const e of PARTICIPANTS)
      await step('2026-04-07T09:00:00Z', actorOf('segretario', e), 'rtd.ipa.confirm', {
        ente: e,
        registeredOn: '2026-04-07',
      });
    return id;
  } finally {
    h.clock.set(CELL_TIME);
  }
}

const BUILDERS: Record<string, (h: Harness, stage: StageName) => Promise<string>> = {
  convenzione: buildConvention,
  rtd: buildRtd,
};

// ------------------------------------------------------------------ the matrix, from the metadata

type Relation = 'own ente' | 'other ente, same unione' | 'other unione';
const RELATIONS: Relation[] = ['own ente', 'other ente, same unione', 'other unione'];

/** The ente a role works for: the Unione's own organs and officers, or a member comune. */
const COMUNE_ROLES: readonly Role[] = ['segretario', 'sindaco'];
const homeOf = (role: Role) => (COMUNE_ROLES.includes(role) ? X : U);
const otherOf = (role: Role) => (COMUNE_ROLES.includes(role) ? Y : X);

interface Cell {
  definition: ProcessDefinition;
  type: string;
  spec: EventSpec;
  role: Exclude<Role, 'system'>;
  relation: Relation;
  actor: Actor;
  /** payload.ente for `ente`-scoped events: the ente the caller acts for */
  target: string;
  expected: 'allowed' | 403 | 404;
}

/** The expected answer, from the metadata's documented semantics (not from the engine's code). */
function expectedOf(spec: EventSpec, role: Role, actor: Actor, target: string): Cell['expected'] {
  if (actor.unione !== U) return 404;
  if (!spec.roles.includes(role)) return 403;
  if (spec.scope === 'unione') return actor.ente === U ? 'allowed' : 403;
  // the person the process names, whatever ente their token carries
  if (spec.scope === 'appointee') return actor.subject === APPOINTEE_CF ? 'allowed' : 403;
  return actor.ente === target && PARTICIPANTS.includes(target) ? 'allowed' : 403;
}

function cellsOf(def: ProcessDefinition): Cell[] {
  const cells: Cell[] = [];
  for (const [type, spec] of Object.entries(def.events)) {
    if (spec.scope === 'system') continue;
    for (const role of TOKEN_ROLES) {
      for (const relation of RELATIONS) {
        const target = spec.scope === 'unione' ? U : homeOf(role);
        const actor =
          relation === 'own ente'
            ? actorOf(role, homeOf(role))
            : relation === 'other ente, same unione'
              ? actorOf(role, otherOf(role))
              : actorOf(role, COMUNE_ROLES.includes(role) ? m.comuni[0]! : m.ipa, m.ipa);
        cells.push({
          definition: def,
          type,
          spec,
          role,
          relation,
          actor,
          target,
          expected: expectedOf(spec, role, actor, target),
        });
      }
    }
  }
  return cells;
}

const DEFINITIONS = registry.all();
const ALL_CELLS = DEFINITIONS.flatMap(cellsOf);

describe('authorization matrix from the definitions’ metadata (e2e)', () => {
  let h: Harness;
  /** one instance per (definition, stage): the refused cells run on it */
  const shared = new Map<string, string>();
  const tokens = new Map<string, string>();
  /** what each allowed cell answered, for the fixture check at the end */
  const allowedAnswers: { cell: string; status: number; code?: string }[] = [];

  const tokenOf = async (a: Actor) => {
    const k = `${a.roles.join('+')}/${a.ente}/${a.unione}`;
    if (!tokens.has(k))
      tokens.set(
        k,
        await h.token({ roles: a.roles, ente: a.ente, unione: a.unione, sub: a.subject }),
      );
    return tokens.get(k)!;
  };
  const stateOf = async (id: string) => {
    const rows: {
      version: number;
      last_seq: number;
      last_hash: string;
      events: number;
      state_value: string;
    }[] = await h.ds.query(
      `SELECT version, last_seq, last_hash, state_value, (SELECT count(*)::int FROM process_event WHERE instance_id = $1) AS events
       FROM process_instance WHERE id = $1`,
      [id],
    );
    return rows[0]!;
  };
  const send = async (id: string, actor: Actor, type: string, payload: Record<string, unknown>) =>
    h
      .http()
      .post(`/v1/processes/${id}/events`)
      .set('Authorization', `Bearer ${await tokenOf(actor)}`)
      .send({ type, payload });
  const fixtureOf = (def: ProcessDefinition) => {
    const f = FIXTURES[def.key];
    if (!f || !BUILDERS[def.key]) throw new Error(`no matrix fixture for definition ${def.key}`);
    return { ...f, build: BUILDERS[def.key]! };
  };

  beforeAll(async () => {
    h = await startHarness();
    for (const def of DEFINITIONS) {
      const f = fixtureOf(def);
      for (const stage of STAGES) shared.set(`${def.key}/${stage}`, await f.build(h, stage));
    }
    h.clock.set(CELL_TIME);
  });
  afterAll(async () => h.close());

  it('covers every public event of every definition, every token role and the three relations', () => {
    for (const def of DEFINITIONS) {
      const publicEvents = Object.entries(def.events)
        .filter(([, s]) => s.scope !== 'system')
        .map(([t]) => t);
      expect(Object.keys(fixtureOf(def).stageOf).sort()).toEqual([...publicEvents].sort());
      expect(ALL_CELLS.filter((c) => c.definition === def)).toHaveLength(
        publicEvents.length * TOKEN_ROLES.length * RELATIONS.length,
      );
    }
    // the matrix is not degenerate: every event has at least one allowed cell and refused ones of both kinds
    for (const type of new Set(ALL_CELLS.map((c) => c.type))) {
      const mine = ALL_CELLS.filter((c) => c.type === type);
      expect(mine.some((c) => c.expected === 'allowed')).toBe(true);
      expect(mine.some((c) => c.expected === 403)).toBe(true);
      expect(mine.some((c) => c.expected === 404)).toBe(true);
    }
  });

  it('builds each stage in a state that accepts the events tested in it', async () => {
    for (const def of DEFINITIONS) {
      for (const [type, stage] of Object.entries(fixtureOf(def).stageOf)) {
        const row: { snapshot: unknown }[] = await h.ds.query(
          `SELECT snapshot FROM process_instance WHERE id = $1`,
          [shared.get(`${def.key}/${stage}`)],
        );
        const snapshot = h.engine.restore(def.machine, row[0]!.snapshot);
        expect({ type, stage, accepted: acceptedEventTypes(snapshot).has(type) }).toEqual({
          type,
          stage,
          accepted: true,
        });
      }
    }
  });

  describe.each(
    DEFINITIONS.flatMap((d) =>
      Object.keys(d.events)
        .filter((t) => d.events[t]!.scope !== 'system')
        .map((t) => [d.key, t] as const),
    ),
  )('%s › %s', (defKey, type) => {
    const cells = ALL_CELLS.filter((c) => c.definition.key === defKey && c.type === type);
    it.each(
      cells.map(
        (c) =>
          [
            c.role,
            c.relation,
            c.expected === 'allowed' ? 'passes authorization' : String(c.expected),
            c,
          ] as const,
      ),
    )('%s, %s → %s', async (_role, _relation, _label, cell) => {
      const f = fixtureOf(cell.definition);
      const stage = f.stageOf[cell.type]!;
      const payload = f.payload(cell.type, cell.target);
      const id =
        cell.expected === 'allowed' ? await f.build(h, stage) : shared.get(`${defKey}/${stage}`)!;
      const before = await stateOf(id);
      const res = await send(id, cell.actor, cell.type, payload);
      const after = await stateOf(id);
      const name = `${cell.type} by ${cell.role}@${cell.actor.ente} (${cell.relation})`;
      if (cell.expected === 'allowed') {
        allowedAnswers.push({ cell: name, status: res.status, code: res.body?.code });
        expect({
          name,
          passedAuthorization: [200, 409, 422].includes(res.status),
          body: res.status === 200 ? 'ok' : res.body,
        }).toMatchObject({
          name,
          passedAuthorization: true,
        });
        if (res.status === 200) {
          expect(after.version).toBe(before.version + 1);
          expect(after.events).toBe(before.events + 1);
        } else {
          expect(after).toEqual(before);
        }
      } else {
        expect({ name, status: res.status, code: res.body.code }).toEqual({
          name,
          status: cell.expected,
          code: cell.expected === 404 ? 'PROCESS_NOT_FOUND' : 'FORBIDDEN',
        });
        expect(after).toEqual(before); // nothing changed: version, events, chain head, state
      }
    });
  });

  it('fixture check: every allowed cell was really applied (200), not only let through', () => {
    expect(allowedAnswers.length).toBe(ALL_CELLS.filter((c) => c.expected === 'allowed').length);
    expect(allowedAnswers.filter((a) => a.status !== 200)).toEqual([]);
  });

  it('lists in GET /v1/processes/:id exactly the events the metadata lets each caller send (for its own ente)', async () => {
    for (const def of DEFINITIONS) {
      const f = fixtureOf(def);
      for (const stage of STAGES) {
        const id = shared.get(`${def.key}/${stage}`)!;
        const types = Object.entries(f.stageOf)
          .filter(([, s]) => s === stage)
          .map(([t]) => t);
        // the process as it stands: an event is offered only if its rule's precondition holds too
        // (libs/engine/src/allowed-events.spec.ts checks the list against the answers over every state)
        const [persisted] = await h.ds.query<{ snapshot: unknown }[]>(
          `SELECT snapshot FROM process_instance WHERE id = $1`,
          [id],
        );
        const snapshot = def.machine.resolveState(
          persisted!.snapshot as Parameters<typeof def.machine.resolveState>[0],
        );
        for (const role of TOKEN_ROLES) {
          for (const actor of [actorOf(role, homeOf(role)), actorOf(role, otherOf(role))]) {
            const res = await h
              .http()
              .get(`/v1/processes/${id}`)
              .set('Authorization', `Bearer ${await tokenOf(actor)}`);
            expect(res.status).toBe(200);
            const shown = (res.body.allowedEvents as { type: string; entes?: string[] }[])
              .filter((e) => types.includes(e.type))
              .map((e) => ({ type: e.type, entes: e.entes ?? null }))
              .sort((a, b) => a.type.localeCompare(b.type));
            // from the metadata: an ente-scoped event is offered for the caller's own ente, if it takes part
            const expected = types
              .map((type) => ({ type, spec: def.events[type]! }))
              .filter(
                ({ spec }) =>
                  expectedOf(spec, role, actor, actor.ente!) === 'allowed' &&
                  (spec.precondition?.(snapshot, spec.scope === 'ente' ? actor.ente! : undefined) ??
                    null) === null,
              )
              .map(({ type, spec }) => ({
                type,
                entes: spec.scope === 'ente' ? [actor.ente!] : null,
              }))
              .sort((a, b) => a.type.localeCompare(b.type));
            expect({ stage, actor: actor.subject, shown }).toEqual({
              stage,
              actor: actor.subject,
              shown: expected,
            });
          }
        }
      }
    }
  });

  it('refuses system events (timers) to every role a token can carry, changing nothing', async () => {
    for (const def of DEFINITIONS) {
      const f = fixtureOf(def);
      const id = shared.get(`${def.key}/sent`)!;
      const before = await stateOf(id);
      for (const [type, spec] of Object.entries(def.events)) {
        if (spec.scope !== 'system') continue;
        for (const role of TOKEN_ROLES) {
          // refused before the payload is even validated: a fixture payload where there is one, else {}
          let payload: Record<string, unknown> = {};
          try {
            payload = f.payload(type, homeOf(role));
          } catch {
            /* no fixture for this timer event */
          }
          const res = await send(id, actorOf(role, homeOf(role)), type, payload);
          expect({ type, role, status: res.status, code: res.body.code }).toEqual({
            type,
            role,
            status: 403,
            code: 'FORBIDDEN',
          });
        }
      }
      expect(await stateOf(id)).toEqual(before);
    }
  });

  it('refuses an ente-scoped event for a comune of the Unione that does not take part in the process', async () => {
    for (const def of DEFINITIONS) {
      const f = fixtureOf(def);
      for (const [type, spec] of Object.entries(def.events)) {
        if (spec.scope !== 'ente') continue;
        const id = shared.get(`${def.key}/${f.stageOf[type]!}`)!;
        const before = await stateOf(id);
        for (const role of spec.roles) {
          const res = await send(id, actorOf(role, Z), type, f.payload(type, Z));
          expect({ type, role, status: res.status, code: res.body.code }).toEqual({
            type,
            role,
            status: 403,
            code: 'FORBIDDEN',
          });
        }
        expect(await stateOf(id)).toEqual(before);
      }
    }
  });

  it('never lets a reader from outside the Unione act: a platform token (unione null) with an acting role gets 403', async () => {
    for (const def of DEFINITIONS) {
      const f = fixtureOf(def);
      for (const [type, spec] of Object.entries(def.events)) {
        if (spec.scope === 'system') continue;
        const id = shared.get(`${def.key}/${f.stageOf[type]!}`)!;
        const before = await stateOf(id);
        for (const role of spec.roles) {
          // an admin may read every tenant; adding an acting role and the right ente must not let it act
          const platform: Actor = {
            subject: `platform.${role}`,
            roles: ['admin', role],
            ente: spec.scope === 'unione' ? U : homeOf(role),
            unione: null,
          };
          const res = await send(id, platform, type, f.payload(type, platform.ente!));
          expect({ type, role, status: res.status, code: res.body.code }).toEqual({
            type,
            role,
            status: 403,
            code: 'FORBIDDEN',
          });
          // without a reader role it does not even see the process
          const stranger: Actor = { ...platform, subject: `nobody.${role}`, roles: [role] };
          const hidden = await send(id, stranger, type, f.payload(type, stranger.ente!));
          expect({ type, role, status: hidden.status }).toEqual({ type, role, status: 404 });
        }
        expect(await stateOf(id)).toEqual(before);
      }
    }
  });
});
