import { addCalendarDays, toRomeDate, type IsoDate } from '@app/calendar';
import type { AnyMachineSnapshot } from 'xstate';
import type { MachineEvent, RuleRefusal } from '../definition';
import type {
  AcceptEvent,
  CandidateSelectEvent,
  DecreeEvent,
  EnteService,
  IncaricoEndEvent,
  IpaConfirmEvent,
  NotificationEvent,
  PublicationEvent,
  ResignationEvent,
  RevokeEvent,
  RtdContext,
} from './rtd.types';

/**
 * Domain rules of the RTD appointment, as pure functions of the context returning a refusal or null. Each is
 * the EventSpec `rule` of its event and, through `guardFromRule`, the machine's guard: one function decides.
 */
const refuse = (
  rule: string,
  message: string,
  field?: string,
  details?: Record<string, unknown>,
): RuleRefusal => ({
  rule,
  message,
  ...(field !== undefined ? { field } : {}),
  ...(details !== undefined ? { details } : {}),
});

export const today = (at: string): IsoDate => toRomeDate(new Date(at));

/** plain calendar arithmetic for a fixed term: from + N months - 1 day (a missing day: the month's last) */
export function termEndMonths(from: IsoDate, months: number): IsoDate {
  const [y, m, d] = from.split('-').map(Number) as [number, number, number];
  const total = m - 1 + months;
  const ty = y + Math.floor(total / 12);
  const tm = total % 12;
  const lastDay = new Date(Date.UTC(ty, tm + 1, 0)).getUTCDate();
  if (d > lastDay) return new Date(Date.UTC(ty, tm, lastDay)).toISOString().slice(0, 10);
  return addCalendarDays(new Date(Date.UTC(ty, tm, d)).toISOString().slice(0, 10), -1);
}

/** whole days from a to b (b later: positive) */
export function daysBetween(a: IsoDate, b: IsoDate): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

export const servedNow = (ctx: RtdContext): EnteService[] =>
  ctx.entes.filter((e) => e.branch !== 'WITHDRAWN');

/** the RTD in office at the time of the step, if any (a successor's pipeline keeps its predecessor until D-1) */
export const inOffice = (ctx: RtdContext) => ctx.current;

/** Requirements of the person (DOMAIN.md §3.2), in the order they are checked; each has a stable name. */
export const REQUIREMENTS = [
  'pec',
  'livello',
  'competenze.tecnologiche',
  'competenze.giuridiche',
  'competenze.manageriali',
  'dichiarazioni.inconferibilita',
  'dichiarazioni.incompatibilita',
  'fineIncarico',
] as const;
export type Requirement = (typeof REQUIREMENTS)[number];

const REQUIREMENT_TEXT: Record<Requirement, string> = {
  pec: 'manca l’indirizzo PEC a cui notificare il decreto',
  livello:
    'manca il livello: dirigente, oppure EQ solo in un ente senza dirigenti (art. 17 c.1-sexies CAD)',
  'competenze.tecnologiche': 'mancano le competenze tecnologiche (art. 17 c.1-ter CAD)',
  'competenze.giuridiche': 'mancano le competenze di informatica giuridica (art. 17 c.1-ter CAD)',
  'competenze.manageriali': 'mancano le competenze manageriali (art. 17 c.1-ter CAD)',
  'dichiarazioni.inconferibilita':
    'manca la dichiarazione di insussistenza di cause di inconferibilità (D.Lgs. 39/2013)',
  'dichiarazioni.incompatibilita':
    'manca la dichiarazione di insussistenza di cause di incompatibilità (D.Lgs. 39/2013)',
  fineIncarico: 'manca la data di fine dell’incarico dirigenziale o EQ sottostante',
};

/** the first requirement the selected candidate does not meet, or null */
export function missingRequirement(ctx: RtdContext): Requirement | null {
  const c = ctx.candidate;
  if (!c) return null;
  const missing: Record<Requirement, boolean> = {
    pec: !c.pec,
    livello: !c.level || (c.level === 'EQ' && c.enteHasDirigenti !== false),
    'competenze.tecnologiche': !c.competences.tecnologiche,
    'competenze.giuridiche': !c.competences.giuridiche,
    'competenze.manageriali': !c.competences.manageriali,
    'dichiarazioni.inconferibilita': !c.declarations.inconferibilita,
    'dichiarazioni.incompatibilita': !c.declarations.incompatibilita,
    fineIncarico: !c.incaricoEnd,
  };
  return REQUIREMENTS.find((r) => missing[r]) ?? null;
}

export function checkCandidate(ctx: RtdContext, ev: CandidateSelectEvent): RuleRefusal | null {
  const p = ev.payload;
  if (p.incaricoEnd && p.incaricoEnd < today(ev.at)) {
    return refuse(
      'INCARICO_ALREADY_ENDED',
      `L’incarico sottostante è già terminato il ${p.incaricoEnd}`,
      'payload.incaricoEnd',
    );
  }
  if (ctx.current && ctx.current.candidate.codiceFiscale === p.codiceFiscale) {
    return refuse(
      'CANDIDATE_ALREADY_IN_OFFICE',
      `${p.name} è già l’RTD in carica: per prorogare si adotta un nuovo atto dopo la scadenza`,
      'payload.codiceFiscale',
    );
  }
  return null;
}

/**
 * The part of the decree's rule that no payload can change (what `allowedEvents` asks): a candidate is selected
 * and meets every requirement of the person.
 */
export function preDecree(ctx: RtdContext): RuleRefusal | null {
  const c = ctx.candidate;
  if (!c) {
    return refuse(
      'CANDIDATE_REQUIRED',
      'Nessun candidato selezionato: selezionarlo prima dell’atto',
    );
  }
  const missing = missingRequirement(ctx);
  if (missing) {
    return refuse(
      'RTD_REQUIREMENT_MISSING',
      `Requisito mancante per la nomina di ${c.name}: ${REQUIREMENT_TEXT[missing]}`,
      `candidate.${missing}`,
      { requirement: missing },
    );
  }
  return null;
}

export function checkDecree(ctx: RtdContext, ev: DecreeEvent): RuleRefusal | null {
  const pre = preDecree(ctx);
  if (pre) return pre;
  const p = ev.payload;
  const c = ctx.candidate!;
  const now = today(ev.at);
  if (p.act.date > now) {
    return refuse(
      'ACT_DATE_IN_FUTURE',
      'La data dell’atto non può essere futura',
      'payload.act.date',
    );
  }
  if (p.startDate < p.act.date) {
    return refuse(
      'START_BEFORE_ACT',
      'La decorrenza della nomina non può precedere l’atto',
      'payload.startDate',
    );
  }
  const end = termEndMonths(p.startDate, p.durationMonths);
  if (c.incaricoEnd && (p.startDate > c.incaricoEnd || end > c.incaricoEnd)) {
    return refuse(
      'RTD_TERM_PAST_INCARICO',
      `La durata (fino al ${end}) supera la fine dell’incarico sottostante (${c.incaricoEnd})`,
      'payload.durationMonths',
    );
  }
  const served = servedNow(ctx).map((e) => e.codiceIpa);
  const extra = p.entes.filter((e) => !served.includes(e));
  if (extra.length) {
    return refuse(
      'ENTE_NOT_SERVED',
      `Non partecipano alla convenzione in vigore: ${extra.join(', ')}`,
      'payload.entes',
    );
  }
  const notListed = served.filter((e) => !p.entes.includes(e));
  if (notListed.length) {
    return refuse(
      'ENTE_NOT_LISTED',
      `L’atto deve indicare ogni ente servito: mancano ${notListed.join(', ')}`,
      'payload.entes',
    );
  }
  for (const r of p.referenti) {
    if (!p.entes.includes(r.ente)) {
      return refuse(
        'REFERENTE_NOT_SERVED',
        `Referente indicato per un ente non servito: ${r.ente}`,
        'payload.referenti',
      );
    }
  }
  const comuni = servedNow(ctx).filter((e) => e.kind === 'COMUNE');
  const without = comuni.find((e) => !p.referenti.some((r) => r.ente === e.codiceIpa));
  if (without) {
    return refuse(
      'RTD_REQUIREMENT_MISSING',
      `Manca il referente per la transizione digitale del Comune di ${without.denominazione}`,
      'payload.referenti',
      { requirement: `referente.${without.codiceIpa}` },
    );
  }
  const cur = ctx.current;
  if (cur) {
    // replacement with no gap: the successor's start D ends the predecessor on D-1
    if (p.startDate <= cur.startDate) {
      return refuse(
        'REPLACEMENT_START_TOO_EARLY',
        `Il successore deve iniziare dopo il ${cur.startDate} (inizio dell’RTD in carica)`,
        'payload.startDate',
      );
    }
    if (p.startDate > addCalendarDays(cur.endDate, 1)) {
      return refuse(
        'REPLACEMENT_LEAVES_GAP',
        `L’RTD in carica termina il ${cur.endDate}: il successore deve iniziare entro il ${addCalendarDays(cur.endDate, 1)}`,
        'payload.startDate',
      );
    }
  }
  return null;
}

export function checkNotification(ctx: RtdContext, ev: NotificationEvent): RuleRefusal | null {
  const delivered = Date.parse(ev.payload.deliveredAt);
  if (delivered > Date.parse(ev.at)) {
    return refuse(
      'DELIVERY_IN_FUTURE',
      'La consegna PEC non può essere futura',
      'payload.deliveredAt',
    );
  }
  if (ctx.current && toRomeDate(new Date(delivered)) < ctx.current.act.date) {
    return refuse(
      'DELIVERY_BEFORE_DECREE',
      'La notifica non può precedere l’atto di nomina',
      'payload.deliveredAt',
    );
  }
  return null;
}

export function checkAccept(_ctx: RtdContext, ev: AcceptEvent): RuleRefusal | null {
  const d = ev.payload.declarations;
  if (!d.inconferibilita || !d.incompatibilita) {
    const requirement = !d.inconferibilita
      ? 'dichiarazioni.inconferibilita'
      : 'dichiarazioni.incompatibilita';
    return refuse(
      'DECLARATIONS_REQUIRED',
      'L’accettazione richiede le dichiarazioni di insussistenza di cause di inconferibilità e incompatibilità',
      `payload.declarations.${requirement.split('.')[1]}`,
      { requirement },
    );
  }
  return null;
}

export function checkPublication(ctx: RtdContext, ev: PublicationEvent): RuleRefusal | null {
  const p = ev.payload;
  const cur = ctx.current;
  const done = p.channel === 'ALBO' ? cur?.publications.albo : cur?.publications.trasparenza;
  if (done) {
    return refuse(
      'PUBLICATION_ALREADY_RECORDED',
      `Pubblicazione ${p.channel} già registrata il ${done.date}`,
      'payload.channel',
    );
  }
  if (p.date > today(ev.at)) {
    return refuse(
      'PUBLICATION_DATE_IN_FUTURE',
      'La data di pubblicazione non può essere futura',
      'payload.date',
    );
  }
  if (cur && p.date < cur.act.date) {
    return refuse(
      'PUBLICATION_BEFORE_DECREE',
      'La pubblicazione non può precedere l’atto di nomina',
      'payload.date',
    );
  }
  return null;
}

/** The part of the IPA rule that no payload can change: that ente is served and has an IPA step open. */
export function preIpa(ctx: RtdContext, ente: string | undefined): RuleRefusal | null {
  const e = ctx.entes.find((x) => x.codiceIpa === ente);
  if (!e || e.branch === 'WITHDRAWN') {
    return refuse(
      'ENTE_NOT_SERVED',
      `L’RTD associato non serve l’ente ${ente ?? ''}`,
      'payload.ente',
    );
  }
  if (e.branch !== 'IPA_PENDING' && e.branch !== 'RECHECK_DUE') {
    return refuse(
      'IPA_ALREADY_CONFIRMED',
      `${e.denominazione}: registrazione IPA già confermata`,
      'payload.ente',
    );
  }
  return null;
}

export function checkIpa(ctx: RtdContext, ev: IpaConfirmEvent): RuleRefusal | null {
  const p = ev.payload;
  const pre = preIpa(ctx, p.ente);
  if (pre) return pre;
  if (p.registeredOn > today(ev.at)) {
    return refuse(
      'IPA_DATE_IN_FUTURE',
      'La data di registrazione IPA non può essere futura',
      'payload.registeredOn',
    );
  }
  if (ctx.current && p.registeredOn < ctx.current.act.date) {
    return refuse(
      'IPA_BEFORE_DECREE',
      'La registrazione IPA non può precedere l’atto di nomina',
      'payload.registeredOn',
    );
  }
  return null;
}

function checkEnd(
  ctx: RtdContext,
  at: string,
  date: IsoDate,
  effective: IsoDate,
  field: string,
): RuleRefusal | null {
  if (date > today(at)) {
    return refuse('ACT_DATE_IN_FUTURE', 'La data dell’atto non può essere futura', 'payload.date');
  }
  if (effective < date) {
    return refuse('EFFECTIVE_BEFORE_ACT', 'L’effetto non può precedere l’atto', field);
  }
  if (ctx.current && effective <= ctx.current.startDate) {
    return refuse(
      'EFFECTIVE_BEFORE_START',
      `L’RTD in carica inizia il ${ctx.current.startDate}: l’effetto deve essere successivo`,
      field,
    );
  }
  return null;
}

export const checkRevoke = (ctx: RtdContext, ev: RevokeEvent): RuleRefusal | null =>
  checkEnd(ctx, ev.at, ev.payload.date, ev.payload.effectiveDate, 'payload.effectiveDate');

export const checkResignation = (ctx: RtdContext, ev: ResignationEvent): RuleRefusal | null =>
  checkEnd(ctx, ev.at, ev.payload.date, ev.payload.effectiveDate, 'payload.effectiveDate');

export const checkIncaricoEnd = (ctx: RtdContext, ev: IncaricoEndEvent): RuleRefusal | null =>
  ctx.current && ev.payload.date <= ctx.current.startDate
    ? refuse(
        'EFFECTIVE_BEFORE_START',
        `L’RTD in carica inizia il ${ctx.current.startDate}: la fine dell’incarico deve essere successiva`,
        'payload.date',
      )
    : null;

/** an EventSpec rule over the context (the same function the machine's guard calls, via guardFromRule) */
export const ruleOf =
  <E>(f: (ctx: RtdContext, ev: E) => RuleRefusal | null) =>
  (s: AnyMachineSnapshot, ev: MachineEvent): RuleRefusal | null =>
    f(s.context as RtdContext, ev as unknown as E);

/** the payload-independent part of a rule, as an EventSpec `precondition` (what `allowedEvents` asks) */
const preOf =
  (f: (ctx: RtdContext, ente: string | undefined) => RuleRefusal | null) =>
  (s: AnyMachineSnapshot, ente: string | undefined): RuleRefusal | null =>
    f(s.context as RtdContext, ente);

/**
 * The precondition of each event whose rule has a part no payload can change; each rule above starts with it,
 * so an event `allowedEvents` offers is refused only for its payload's details.
 */
export const RTD_PRECONDITIONS = {
  'rtd.decree.issue': preOf((ctx) => preDecree(ctx)),
  'rtd.ipa.confirm': preOf(preIpa),
} as const;

/** the rule of each event that has one: EventSpec.rule in the definition, guard in the machine */
export const RTD_RULES = {
  'rtd.candidate.select': ruleOf(checkCandidate),
  'rtd.decree.issue': ruleOf(checkDecree),
  'rtd.notification.record': ruleOf(checkNotification),
  'rtd.accept': ruleOf(checkAccept),
  'rtd.publication.record': ruleOf(checkPublication),
  'rtd.ipa.confirm': ruleOf(checkIpa),
  'rtd.revoke': ruleOf(checkRevoke),
  'rtd.resignation.record': ruleOf(checkResignation),
  'rtd.incarico.end': ruleOf(checkIncaricoEnd),
} as const;
