import { createHash, randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DateTime } from 'luxon';
import type { Role } from '@app/common';

/**
 * The Unione dei Miracoli scenario (DOMAIN.md §6.3) against a running Iter, through the public HTTP API only,
 * told as an Italian timeline: who did what, when (Iter's own time, from the audit history), and which deadline
 * moved where. Policy QUORUM(3): Casalbordino, Pollutri and Scerni and the Unione approve; Villalfonsina
 * convenes its council late, is granted a proroga, then its council rejects the text; the convention enters into
 * force among the others and Iter opens the RTD appointment by itself (the worker carries out the effect).
 */
export interface DemoOptions {
  baseUrl: string;
  /** a token for (role, ente): minted by the caller (development secret) or supplied */
  token: (role: Role, ente: string) => Promise<string>;
  print: (line: string) => void;
  /** how long to wait for the worker's effects (the RTD opened on entry into force) */
  effectTimeoutMs?: number;
}

const UNIONE = 'u_miracoli';
const COMUNI = {
  casalbordino: 'c_b865',
  pollutri: 'c_g799',
  scerni: 'c_i520',
  villalfonsina: 'c_l961',
};
const TEXT =
  'CONVENZIONE PER LA GESTIONE IN FORMA ASSOCIATA DELLA FUNZIONE ICT E DELL’UFFICIO PER LA TRANSIZIONE AL ' +
  'DIGITALE TRA I COMUNI DI CASALBORDINO, POLLUTRI, SCERNI, VILLALFONSINA E L’UNIONE DEI MIRACOLI';
const ROLE_IT: Partial<Record<Role, string>> = {
  presidente: 'presidente',
  segretario: 'segretario',
  sindaco: 'sindaco',
  staff: 'ufficio dell’Unione',
};
const OUTCOME_IT: Record<string, string> = {
  APPROVED: 'APPROVATA',
  REJECTED: 'RESPINTA',
  APPROVED_WITH_AMENDMENTS: 'APPROVATA CON EMENDAMENTI',
  SEDUTA_DESERTA: 'SEDUTA DESERTA',
  RINVIATA: 'RINVIATA',
};

interface EnteRow {
  ente: string;
  status: string;
  deadline?: { date: string; extensions: number } | null;
}
interface View {
  state: string;
  status: string;
  version: number;
  data: { entes: EnteRow[]; participants?: string[] };
  links?: { relation: string; instanceId: string; definition: string; state: string }[];
}

export class DemoError extends Error {}

const day = (iso: string) =>
  DateTime.fromISO(iso, { zone: 'Europe/Rome' }).setLocale('it').toFormat('d LLL yyyy');
const instant = (iso: string) =>
  DateTime.fromISO(iso, { zone: 'Europe/Rome' }).setLocale('it').toFormat('d LLL yyyy HH:mm');

export async function runMiracoliDemo(o: DemoOptions): Promise<{ id: string; state: string }> {
  const base = o.baseUrl.replace(/\/+$/, '');
  async function call<T>(role: Role, ente: string, method: string, path: string, body?: unknown) {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${await o.token(role, ente)}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new DemoError(
        `Iter non raggiungibile su ${base} (${(err as Error).message}): è avviato?`,
      );
    }
    const text = await res.text();
    if (!res.ok) throw new DemoError(`${method} ${path} → HTTP ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  // names of the entes, from the registry (the fixture must be loaded: `npm run iter -- seed miracoli`)
  const entes = await call<{ codiceIpa: string; denominazione: string; kind: string }[]>(
    'presidente',
    UNIONE,
    'GET',
    `/v1/entes`,
  );
  const name = new Map(entes.map((e) => [e.codiceIpa, e.denominazione]));
  for (const code of [UNIONE, ...Object.values(COMUNI)])
    if (!name.has(code))
      throw new DemoError(
        `ente ${code} assente: caricare prima l’Unione dei Miracoli (npm run iter -- seed miracoli)`,
      );
  const who = (role: Role, ente: string) =>
    `${ente === UNIONE ? name.get(ente) : `Comune di ${name.get(ente)}`}, ${ROLE_IT[role] ?? role}`;
  const of = (ente: string) => (ente === UNIONE ? name.get(ente)! : name.get(ente)!);

  let id = '';
  let before: View | null = null;
  let lastSeq = 0;

  /** one step: the action, then its line(s) in the timeline, with Iter's time and the deadlines it moved */
  async function step(role: Role, ente: string, what: string, act: () => Promise<unknown>) {
    await act();
    const view = await call<View>(role, ente, 'GET', `/v1/processes/${id}`);
    const history = await call<{ seq: number; occurredAt: string; type: string }[]>(
      'presidente',
      UNIONE,
      'GET',
      `/v1/processes/${id}/history`,
    );
    const mine = history.filter((e) => e.seq > lastSeq);
    lastSeq = history.length ? history[history.length - 1]!.seq : lastSeq;
    const at = mine[0]?.occurredAt ?? new Date().toISOString();
    const notes: string[] = [];
    if (before && before.state !== view.state) notes.push(`stato ${before.state} → ${view.state}`);
    notes.push(...deadlineMoves(before, view, of));
    o.print(
      `${instant(at)} — ${who(role, ente)}: ${what}${notes.length ? `; ${notes.join('; ')}` : ''}`,
    );
    before = view;
  }

  const event = (role: Role, ente: string, type: string, payload: Record<string, unknown>) =>
    call(role, ente, 'POST', `/v1/processes/${id}/events`, { type, payload });

  o.print(`Iter — scenario Unione dei Miracoli (DOMAIN.md §6.3) su ${base}`);
  const members = Object.values(COMUNI);
  await step(
    'presidente',
    UNIONE,
    `avviata la convenzione ICT per ${members.length} comuni (approvazione a maggioranza: almeno 3 enti)`,
    async () => {
      const r = await call<{ id: string }>('presidente', UNIONE, 'POST', '/v1/processes', {
        definition: 'convenzione',
        businessKey: `miracoli-ict-${Date.now().toString(36)}-${randomInt(1e6)}`,
        input: {
          title: 'Convenzione ICT e RTD associato — Unione dei Miracoli',
          unione: UNIONE,
          members,
          policy: { approval: 'QUORUM', quorumMinEntes: 3 },
        },
      });
      id = r.id;
    },
  );
  const hash = createHash('sha256').update(TEXT, 'utf8').digest('hex');
  await step('presidente', UNIONE, `congelato il testo (versione ${hash.slice(0, 12)}…)`, () =>
    event('presidente', UNIONE, 'convention.freeze', { text: TEXT }),
  );
  await sleep(1100); // the PEC is delivered after the text was frozen (Iter refuses the opposite)
  await step('presidente', UNIONE, 'registrata la consegna via PEC del testo ai consigli', () =>
    event('presidente', UNIONE, 'convention.send', { deliveredAt: new Date().toISOString() }),
  );

  const today = DateTime.now().setZone('Europe/Rome').toISODate()!;
  let n = randomInt(10_000, 90_000); // deliberation numbers are unique per ente and year: a fresh block per run
  const deliberate = async (ente: string, outcome: 'APPROVED' | 'REJECTED') => {
    n += 1;
    const number = String(n);
    await step(
      'segretario',
      ente,
      `registrata delibera n. ${number} del ${day(today)} (${OUTCOME_IT[outcome]}${outcome === 'APPROVED' ? ', immediatamente eseguibile' : ''})`,
      () =>
        event('segretario', ente, 'convention.deliberation.record', {
          ente,
          number,
          date: today,
          outcome,
          ...(outcome === 'APPROVED'
            ? {
                textHash: hash,
                immediatamenteEseguibile: true,
                ieVotes: { favorevoli: 9, contrari: 1, astenuti: 1, presenti: 11, assegnati: 13 },
              }
            : {}),
          pareri: [
            {
              type: 'TECNICO',
              outcome: 'FAVOREVOLE',
              signer: 'Responsabile servizio ICT',
              date: today,
            },
          ],
        }),
    );
  };
  for (const ente of [COMUNI.casalbordino, COMUNI.pollutri, COMUNI.scerni, UNIONE])
    await deliberate(ente, 'APPROVED');

  const v = COMUNI.villalfonsina;
  await step(
    'staff',
    UNIONE,
    `concessa una proroga di 30 giorni al Comune di ${name.get(v)} (seduta del consiglio rinviata)`,
    () =>
      event('staff', UNIONE, 'convention.deadline.extend', {
        ente: v,
        days: 30,
        reason: 'Seduta del consiglio comunale rinviata per l’approvazione del bilancio',
      }),
  );
  await deliberate(v, 'REJECTED');

  for (const ente of [COMUNI.casalbordino, COMUNI.pollutri, COMUNI.scerni, UNIONE]) {
    const role: Role = ente === UNIONE ? 'presidente' : 'sindaco';
    await step(role, ente, 'firmata digitalmente la convenzione', () =>
      event(role, ente, 'convention.sign', {
        ente,
        signedAt: new Date().toISOString(),
        signatureType: 'FIRMA_DIGITALE',
        digitalSignature: true,
      }),
    );
  }

  // the worker opens the RTD appointment by itself (a startProcess effect written with the step)
  const deadline = Date.now() + (o.effectTimeoutMs ?? 20_000);
  let rtd: View['links'] extends (infer L)[] | undefined ? L | undefined : never;
  for (;;) {
    const view = await call<View>('presidente', UNIONE, 'GET', `/v1/processes/${id}`);
    rtd = view.links?.find((l) => l.definition === 'rtd');
    if (rtd || Date.now() > deadline) break;
    await sleep(250);
  }
  if (!rtd)
    throw new DemoError('la nomina del RTD non è stata avviata: il worker è in esecuzione?');
  const rtdHistory = await call<{ occurredAt: string }[]>(
    'presidente',
    UNIONE,
    'GET',
    `/v1/processes/${rtd.instanceId}/history`,
  );
  o.print(
    `${instant(rtdHistory[0]?.occurredAt ?? new Date().toISOString())} — Iter (sistema): avviata d’ufficio la nomina del RTD associato (stato ${rtd.state})`,
  );

  const final = await call<View>('presidente', UNIONE, 'GET', `/v1/processes/${id}`);
  const verify = await call<{ valid: boolean; events: number }>(
    'presidente',
    UNIONE,
    'GET',
    `/v1/processes/${id}/history/verify`,
  );
  o.print('');
  o.print(`Esito: convenzione ${final.state}`);
  for (const e of final.data.entes) o.print(`  ${of(e.ente).padEnd(22)} ${e.status}`);
  o.print(
    `Registro di audit: ${verify.events} eventi, catena ${verify.valid ? 'integra' : 'NON INTEGRA'}`,
  );
  o.print(`Processo ${id}`);
  return { id, state: final.state };
}

/** "termine per X fissato al …" for a new deadline, "spostato dal … al …" for a moved one */
export function deadlineMoves(
  before: View | null,
  after: View,
  of: (ente: string) => string,
): string[] {
  const prev = new Map((before?.data.entes ?? []).map((e) => [e.ente, e.deadline?.date ?? null]));
  const out: string[] = [];
  const fixed: string[] = [];
  let fixedOn: string | null = null;
  for (const e of after.data.entes) {
    const was = prev.get(e.ente) ?? null;
    const now = e.deadline?.date ?? null;
    if (!now || was === now) continue;
    if (was) out.push(`termine per ${of(e.ente)} spostato dal ${day(was)} al ${day(now)}`);
    else if (fixedOn === null || fixedOn === now) {
      fixedOn = now;
      fixed.push(of(e.ente));
    } else out.push(`termine per ${of(e.ente)} fissato al ${day(now)}`);
  }
  if (fixedOn)
    out.unshift(
      fixed.length > 1
        ? `termine per le delibere di ${fixed.length} enti fissato al ${day(fixedOn)}`
        : `termine per ${fixed[0]} fissato al ${day(fixedOn)}`,
    );
  return out;
}
