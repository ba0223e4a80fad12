import {
  addCalendarDays,
  addDaysTerm,
  atRomeTime,
  backwardTerm,
  compareIsoDate,
  executivityDate,
  instantInRome,
  isDateOnly,
  isIsoDate,
  romeDateOf,
  toRomeDate,
} from '@app/calendar';
import { checkDelivery, deliveryOpen } from './convention.delivery';
import { sha256Hex } from '@app/common';
import { evaluateRule, type EventRule, type RuleRefusal } from '../definition';
import type {
  AdhesionAcceptEvent,
  AdhesionOpenEvent,
  AmendmentAcceptEvent,
  AmendmentOpenEvent,
  CollectiveActEvent,
  ConveneEvent,
  ConventionEvent,
  RecessoEvent,
  CertifyExecutivityEvent,
  ConventionContext,
  Deadline,
  EnteProgress,
  ExtendDeadlineEvent,
  RecordDeliberationEvent,
  SendEvent,
  SignEvent,
  Votes,
} from './convention.types';

/**
 * Domain rules of the convention, written once (DESIGN.md "One place per fact"): each event a person sends
 * has one `EventRule` in `CONVENTION_RULES` — a `precondition` on the state of the process and of the ente
 * (what `allowedEvents` asks), then a `check` of the payload. The machine's only guard for these events is
 * `ruleGuard(CONVENTION_RULES)`, the definition's `rule`/`precondition` are `specRule(...)` of the same
 * entries, so the engine's answer, the allowed-events list and the machine cannot disagree.
 *
 * The phase is read from the context: the convention is in force (later life: adhesions, recesso, renewal,
 * dissolution) when `inForceFrom` is set and no amendment loop runs; otherwise the approval loop runs (the
 * first approval, or an amendment of the convention in force).
 */
const refuse = (rule: string, message: string, field?: string): RuleRefusal =>
  field === undefined ? { rule, message } : { rule, message, field };

/** an ente that no longer takes part: rejected (QUORUM), non aderente, receduto */
export const isOut = (e: EnteProgress): boolean =>
  e.status === 'REJECTED' || e.status === 'NON_ADERENTE' || e.status === 'RECEDUTO';

/** an ente that still takes part: not out and not still joining */
export const isActive = (e: EnteProgress): boolean => !e.joining && !isOut(e);

export const PRE_VOTE: readonly string[] = ['INVITED', 'COUNCIL_CONVENED'];

/** the convention is in force and no amendment loop runs: its later life (IN_FORCE) */
export const inForcePhase = (ctx: ConventionContext): boolean =>
  ctx.inForceFrom !== null && !ctx.amending;

/** a comune joining the convention in force whose adhesion is still under way */
export const isJoining = (e: EnteProgress): boolean => e.joining && !isOut(e);

/** the entes taking part now (the Unione first): what the view lists as `participants` */
export const participatingEntes = (ctx: ConventionContext): EnteProgress[] =>
  ctx.entes.filter(isActive);

const today = (at: string) => toRomeDate(new Date(at));

/** the moment of the reminder `n` days before a deadline: 09:00 Rome on T-n (DOMAIN.md §4) */
export const reminderAt = (deadline: Deadline, n: number): string => {
  // a pure function of the term's last day and n, computed for every ente at every step (definition.timers):
  // remembered, bounded
  const key = `${deadline.date}|${n}`;
  let at = reminderTimes.get(key);
  if (at === undefined) {
    at = atRomeTime(addCalendarDays(deadline.date, -n), 9).toISOString();
    if (reminderTimes.size >= 10_000) reminderTimes.clear();
    reminderTimes.set(key, at);
  }
  return at;
};
const reminderTimes = new Map<string, string>();

/**
 * Until when the reminder `n` days before a deadline is worth sending: the deadline itself, or the moment of
 * the next, closer reminder, whichever comes first. A reminder due at or after that moment (the worker was
 * down) is cancelled, never delivered, so the outcome does not depend on the order overdue jobs run in.
 */
export function reminderNotAfter(
  reminderDaysBefore: readonly number[],
  deadline: Deadline,
  n: number,
): string {
  const closer = reminderDaysBefore
    .filter((m) => m < n)
    .map((m) => reminderAt(deadline, m))
    .filter((at) => at < deadline.dueAt);
  return [deadline.dueAt, ...closer].sort()[0]!;
}

export function findEnte(ctx: ConventionContext, ente: string): EnteProgress | undefined {
  return ctx.entes.find((e) => e.codiceIpa === ente);
}

const notParticipant = (ente: string, name = ente): RuleRefusal =>
  refuse(
    'ENTE_NOT_PARTICIPANT',
    `L'ente ${name} non partecipa a questa convenzione`,
    'payload.ente',
  );

/** the row of an ente that takes part (or is joining): unknown and out entes are refused */
function participant(ctx: ConventionContext, ente: string | undefined): EnteProgress | RuleRefusal {
  const e = ente === undefined ? undefined : findEnte(ctx, ente);
  if (!e) return notParticipant(ente ?? '?');
  if (isOut(e)) return notParticipant(ente!, `${e.denominazione} (${e.status})`);
  return e;
}
const isRefusal = (x: EnteProgress | RuleRefusal): x is RuleRefusal => 'rule' in x;

/**
 * The ente's own acts on the text (convocation, deliberation, executivity): in force, only a joining comune
 * has any left; in the approval loop, every participant.
 */
function acting(ctx: ConventionContext, ente: string | undefined): EnteProgress | RuleRefusal {
  const e = participant(ctx, ente);
  if (isRefusal(e)) return e;
  if (inForcePhase(ctx) && !e.joining) {
    return refuse(
      'NOT_JOINING',
      `${e.denominazione} partecipa già: la convenzione è in vigore`,
      'payload.ente',
    );
  }
  return e;
}

// ---------------------------------------------------------------- preconditions (no payload details)

function preVote(ctx: ConventionContext, ente: string | undefined): RuleRefusal | null {
  const e = acting(ctx, ente);
  if (isRefusal(e)) return e;
  if (!PRE_VOTE.includes(e.status)) {
    return refuse(
      'DELIBERATION_ALREADY_RECORDED',
      `La deliberazione di ${e.denominazione} è già registrata (${e.status})`,
    );
  }
  return null;
}

function awaitingExecutivity(ctx: ConventionContext, ente: string | undefined): RuleRefusal | null {
  const e = acting(ctx, ente);
  if (isRefusal(e)) return e;
  if (e.status !== 'APPROVED' || !e.deliberation) {
    return refuse(
      'EXECUTIVITY_NOT_APPLICABLE',
      `Nessuna deliberazione approvata in attesa di esecutività per ${e.denominazione}`,
    );
  }
  return null;
}

function maySign(ctx: ConventionContext, ente: string | undefined): RuleRefusal | null {
  const e = participant(ctx, ente);
  if (isRefusal(e)) return e;
  if (e.status === 'SIGNED')
    return refuse('ALREADY_SIGNED', `${e.denominazione} ha già sottoscritto`);
  if (inForcePhase(ctx)) {
    // a joining comune signs the addendum once the Giunta dell'Unione admitted it
    if (!e.joining)
      return refuse('NOT_JOINING', `${e.denominazione} ha già sottoscritto la convenzione`);
    if (e.status !== 'ADMITTED')
      return refuse(
        'ADHESION_NOT_ACCEPTED',
        `L'adesione di ${e.denominazione} non è ancora accolta`,
      );
    return null;
  }
  if (e.status !== 'EXECUTIVE') {
    return refuse(
      'DELIBERATION_NOT_EXECUTIVE',
      `La deliberazione di ${e.denominazione} non è ancora esecutiva`,
    );
  }
  return null;
}

function someoneToAdmit(ctx: ConventionContext): RuleRefusal | null {
  return ctx.entes.some((e) => isJoining(e) && e.status === 'EXECUTIVE')
    ? null
    : refuse(
        'ADHESION_NOT_READY',
        'Nessun comune in adesione ha una deliberazione consiliare esecutiva da accogliere',
      );
}

function mayRecede(ctx: ConventionContext, ente: string | undefined): RuleRefusal | null {
  const e = ente === undefined ? undefined : findEnte(ctx, ente);
  if (!e) return notParticipant(ente ?? '?');
  if (e.kind !== 'COMUNE' || !isActive(e))
    return refuse('NOT_AN_ACTIVE_COMUNE', `${e.denominazione} non può recedere`);
  if (e.recesso)
    return refuse('RECESSO_ALREADY_RECORDED', `Il recesso di ${e.denominazione} è già registrato`);
  return null;
}

const mayRecordAct =
  (act: 'RINNOVO' | 'SCIOGLIMENTO') =>
  (ctx: ConventionContext, ente: string | undefined): RuleRefusal | null => {
    const e = ente === undefined ? undefined : findEnte(ctx, ente);
    if (!e) return notParticipant(ente ?? '?');
    if (!isActive(e))
      return refuse(
        'NOT_AN_ACTIVE_PARTICIPANT',
        `${e.denominazione} non partecipa (o non ancora) alla convenzione`,
      );
    if (e.acts.some((a) => a.act === act))
      return refuse('ACT_ALREADY_RECORDED', `${e.denominazione} ha già deliberato (${act})`);
    return null;
  };

function openTerms(ctx: ConventionContext): RuleRefusal | null {
  return ctx.entes.some((e) => PRE_VOTE.includes(e.status) && e.deadline && !isOut(e))
    ? null
    : refuse('NOTHING_TO_EXTEND', 'Nessun termine aperto da prorogare');
}

function noAdhesionUnderWay(ctx: ConventionContext): RuleRefusal | null {
  const joining = ctx.entes.find(isJoining);
  return joining
    ? refuse(
        'ADHESION_IN_PROGRESS',
        `L'adesione di ${joining.denominazione} è in corso: la modifica del testo si apre dopo la sua conclusione`,
      )
    : null;
}

// ---------------------------------------------------------------- payload checks

function checkSendPayload(ctx: ConventionContext, ev: SendEvent): RuleRefusal | null {
  const value = ev.payload.deliveredAt;
  // a date alone is a date in Rome: compared with Rome dates, never read as midnight UTC
  const dateOnly = isDateOnly(value);
  const future = dateOnly
    ? compareIsoDate(romeDateOf(value), today(ev.at)) > 0
    : instantInRome(value).getTime() > Date.parse(ev.at);
  if (future) {
    return refuse(
      'DELIVERY_IN_FUTURE',
      'La data di consegna PEC non può essere futura',
      'payload.deliveredAt',
    );
  }
  const beforeFreeze =
    ctx.text !== null &&
    (dateOnly
      ? compareIsoDate(romeDateOf(value), romeDateOf(ctx.text.frozenAt)) < 0
      : instantInRome(value).getTime() < Date.parse(ctx.text.frozenAt));
  if (beforeFreeze) {
    return refuse(
      'DELIVERY_BEFORE_FREEZE',
      'La consegna PEC non può precedere il congelamento del testo',
      'payload.deliveredAt',
    );
  }
  return null;
}

function checkVotes(v: Votes, field: string): RuleRefusal | null {
  if (v.favorevoli + v.contrari + v.astenuti > v.presenti) {
    return refuse(
      'VOTES_INCONSISTENT',
      'Favorevoli + contrari + astenuti superano i presenti',
      field,
    );
  }
  if (v.presenti > v.assegnati) {
    return refuse('VOTES_INCONSISTENT', 'I presenti superano i componenti assegnati', field);
  }
  return null;
}

/**
 * Under EXTEND_ONCE_THEN_NON_ADERENTE, the last day a council may deliberate: its term, once extended (a term never
 * extended is extended by `extensionDays` when it lapses). A session after it is out of term however late the expiry
 * timer runs, so the outcome does not depend on whether the worker or the segretario came first. Null under STALL,
 * where a late deliberation is welcome (DOMAIN.md §2.6).
 */
function finalTermDay(ctx: ConventionContext, e: EnteProgress): string | null {
  if (ctx.policy.nonDeliberating !== 'EXTEND_ONCE_THEN_NON_ADERENTE' || !e.deadline) return null;
  if (e.deadline.extensions > 0) return e.deadline.date;
  return addDaysTerm(e.deadline.date, ctx.policy.extensionDays, {
    saturdayExtends: ctx.policy.saturdayExtends === true,
  });
}

function deliberationPayload(
  ctx: ConventionContext,
  ev: RecordDeliberationEvent,
): RuleRefusal | null {
  const p = ev.payload;
  const e = findEnte(ctx, p.ente)!;
  if (!isIsoDate(p.date)) return refuse('INVALID_DATE', 'Data non valida', 'payload.date');
  if (compareIsoDate(p.date, today(ev.at)) > 0) {
    return refuse(
      'DELIBERATION_DATE_IN_FUTURE',
      'La data della seduta non può essere futura',
      'payload.date',
    );
  }
  if (ctx.sentAt && compareIsoDate(p.date, romeDateOf(ctx.sentAt)) < 0) {
    return refuse(
      'DELIBERATION_BEFORE_SENDING',
      "La seduta non può precedere l'invio dello schema",
      'payload.date',
    );
  }
  const lastDay = finalTermDay(ctx, e);
  if (lastDay !== null && compareIsoDate(p.date, lastDay) > 0) {
    return refuse(
      'DELIBERATION_AFTER_DEADLINE',
      `La seduta è successiva al termine di ${e.denominazione}, scaduto il ${lastDay} dopo la proroga: il comune resta non aderente (può aderire successivamente)`,
      'payload.date',
    );
  }
  const used = [...e.sessions, ...(e.deliberation ? [e.deliberation] : [])].some(
    (d) => d.number === p.number,
  );
  if (used) {
    return refuse(
      'DELIBERATION_NUMBER_USED',
      `Il numero ${p.number} è già usato da ${e.denominazione}`,
      'payload.number',
    );
  }
  const decides =
    p.outcome === 'APPROVED' ||
    p.outcome === 'APPROVED_WITH_AMENDMENTS' ||
    p.outcome === 'REJECTED';
  if (decides && ctx.policy.requirePareri) {
    const pareri = p.pareri ?? [];
    if (!pareri.some((x) => x.type === 'TECNICO' && x.outcome !== 'NON_DOVUTO')) {
      return refuse(
        'PARERE_TECNICO_REQUIRED',
        'Manca il parere di regolarità tecnica (art. 49 TUEL)',
        'payload.pareri',
      );
    }
    if (
      ctx.policy.costClauses &&
      !pareri.some((x) => x.type === 'CONTABILE' && x.outcome !== 'NON_DOVUTO')
    ) {
      return refuse(
        'PARERE_CONTABILE_REQUIRED',
        'La convenzione ha clausole di spesa: manca il parere di regolarità contabile (art. 49 TUEL)',
        'payload.pareri',
      );
    }
    if (pareri.some((x) => compareIsoDate(x.date, p.date) > 0)) {
      return refuse(
        'PARERE_AFTER_SESSION',
        'Un parere non può seguire la seduta',
        'payload.pareri',
      );
    }
  }
  if (p.outcome === 'APPROVED_WITH_AMENDMENTS') {
    if (e.joining)
      return refuse(
        'AMENDMENT_NOT_ALLOWED',
        'Chi aderisce successivamente approva il testo vigente senza emendamenti',
        'payload.outcome',
      );
    if (!p.amendments)
      return refuse(
        'AMENDMENTS_REQUIRED',
        'Descrivere gli emendamenti approvati',
        'payload.amendments',
      );
    if (!p.textHash)
      return refuse(
        'TEXT_HASH_REQUIRED',
        "L'hash del testo emendato è obbligatorio",
        'payload.textHash',
      );
    if (ctx.text && p.textHash === ctx.text.sha256) {
      return refuse(
        'AMENDED_TEXT_UNCHANGED',
        'Il testo emendato coincide con la versione vigente',
        'payload.textHash',
      );
    }
  }
  if (p.outcome === 'APPROVED') {
    if (!p.textHash)
      return refuse(
        'TEXT_HASH_REQUIRED',
        "L'hash del testo approvato è obbligatorio",
        'payload.textHash',
      );
    if (!ctx.text || p.textHash !== ctx.text.sha256) {
      return refuse(
        'TEXT_HASH_MISMATCH',
        `Il testo approvato non coincide con la versione vigente v${ctx.text?.version ?? '?'}`,
        'payload.textHash',
      );
    }
  }
  if (p.votes) {
    const bad = checkVotes(p.votes, 'payload.votes');
    if (bad) return bad;
    // whatever majority the council's regolamento asks, fewer yes than no votes never approve a proposal
    if (
      (p.outcome === 'APPROVED' || p.outcome === 'APPROVED_WITH_AMENDMENTS') &&
      p.votes.favorevoli <= p.votes.contrari
    ) {
      return refuse(
        'VOTES_INCONSISTENT',
        `Esito incoerente con il voto: ${p.votes.favorevoli} favorevoli e ${p.votes.contrari} contrari non approvano la proposta`,
        'payload.votes',
      );
    }
  }
  if (p.immediatamenteEseguibile) {
    if (p.outcome !== 'APPROVED') {
      return refuse(
        'IE_WITHOUT_APPROVAL',
        "L'immediata eseguibilità richiede l'approvazione",
        'payload.immediatamenteEseguibile',
      );
    }
    if (!p.ieVotes) {
      return refuse(
        'IE_VOTES_REQUIRED',
        "Indicare il voto sull'immediata eseguibilità",
        'payload.ieVotes',
      );
    }
    const bad = checkVotes(p.ieVotes, 'payload.ieVotes');
    if (bad) return bad;
    // art. 134 c.4 TUEL: majority of the members (componenti), not of those present
    if (p.ieVotes.favorevoli * 2 <= p.ieVotes.assegnati) {
      return refuse(
        'IE_MAJORITY_NOT_REACHED',
        "L'immediata eseguibilità richiede il voto favorevole della maggioranza dei componenti (art. 134 c.4 TUEL)",
        'payload.ieVotes.favorevoli',
      );
    }
  }
  return null;
}

function executivityPayload(
  ctx: ConventionContext,
  ev: CertifyExecutivityEvent,
): RuleRefusal | null {
  const p = ev.payload;
  const e = findEnte(ctx, p.ente)!;
  if (e.deliberation && compareIsoDate(p.publicationStart, e.deliberation.date) < 0) {
    return refuse(
      'PUBLICATION_BEFORE_DELIBERATION',
      'La pubblicazione non può precedere la seduta',
      'payload.publicationStart',
    );
  }
  if (compareIsoDate(p.executiveOn, p.publicationStart) <= 0) {
    return refuse(
      'EXECUTIVITY_BEFORE_PUBLICATION',
      "L'esecutività segue la pubblicazione (art. 134 c.3 TUEL)",
      'payload.executiveOn',
    );
  }
  // art. 134 c.3 TUEL: executive "dopo il decimo giorno dalla pubblicazione", so never before P+10 (the earliest
  // reading, DOMAIN.md §4.1); a later date (P+11, or the minority reading P+14+10) is the segretario's to certify
  const earliest = executivityDate(p.publicationStart, 'P_PLUS_10');
  if (compareIsoDate(p.executiveOn, earliest) < 0) {
    return refuse(
      'EXECUTIVITY_BEFORE_TERM',
      `Senza immediata eseguibilità la deliberazione è esecutiva dopo il decimo giorno dalla pubblicazione (art. 134 c.3 TUEL): non prima del ${earliest}`,
      'payload.executiveOn',
    );
  }
  if (compareIsoDate(p.executiveOn, today(ev.at)) > 0) {
    return refuse(
      'EXECUTIVITY_DATE_IN_FUTURE',
      "Non si può certificare un'esecutività futura",
      'payload.executiveOn',
    );
  }
  return null;
}

/** the signature itself (convention or addendum): digital, not in the future, not before executivity */
function signPayload(ctx: ConventionContext, ev: SignEvent): RuleRefusal | null {
  const p = ev.payload;
  const e = findEnte(ctx, p.ente)!;
  if (!p.digitalSignature) {
    return refuse(
      'DIGITAL_SIGNATURE_REQUIRED',
      'La convenzione va sottoscritta con firma digitale, pena la nullità (art. 15 c.2-bis L. 241/1990)',
      'payload.digitalSignature',
    );
  }
  // a date alone is a Rome date (signed "today" is never in the future), an instant is compared as such
  const future = isDateOnly(p.signedAt)
    ? compareIsoDate(romeDateOf(p.signedAt), today(ev.at)) > 0
    : instantInRome(p.signedAt).getTime() > Date.parse(ev.at);
  if (future) {
    return refuse(
      'SIGNATURE_IN_FUTURE',
      'La data di sottoscrizione non può essere futura',
      'payload.signedAt',
    );
  }
  if (e.executivity && compareIsoDate(romeDateOf(p.signedAt), e.executivity.certifiedOn) < 0) {
    return refuse(
      'SIGNATURE_BEFORE_EXECUTIVITY',
      'La sottoscrizione non può precedere l’esecutività della deliberazione',
      'payload.signedAt',
    );
  }
  // a joining comune signs the addendum once the Giunta dell'Unione has accepted its adhesion (DOMAIN.md §6.1)
  if (e.admission && compareIsoDate(romeDateOf(p.signedAt), e.admission.date) < 0) {
    return refuse(
      'SIGNATURE_BEFORE_ADMISSION',
      `L’addendum non può essere sottoscritto prima dell’accoglimento dell’adesione da parte della Giunta dell’Unione (deliberazione n. ${e.admission.number} del ${e.admission.date})`,
      'payload.signedAt',
    );
  }
  return null;
}

function convenePayload(ctx: ConventionContext, ev: ConveneEvent): RuleRefusal | null {
  const p = ev.payload;
  if (compareIsoDate(p.noticeDate, today(ev.at)) > 0) {
    return refuse(
      'NOTICE_IN_FUTURE',
      'La convocazione non può essere futura',
      'payload.noticeDate',
    );
  }
  // a backward term ("at least N days before the session") is never shifted for holidays
  const latest = backwardTerm(p.sessionDate, ctx.policy.councilNoticeDays);
  if (compareIsoDate(p.noticeDate, latest) > 0) {
    return refuse(
      'NOTICE_TOO_SHORT',
      `La convocazione va notificata almeno ${ctx.policy.councilNoticeDays} giorni prima della seduta (entro il ${latest})`,
      'payload.noticeDate',
    );
  }
  return null;
}

function newTextPayload(
  ctx: ConventionContext,
  ev: AmendmentAcceptEvent | AmendmentOpenEvent,
): RuleRefusal | null {
  if (ctx.text && sha256Hex(ev.payload.text) === ctx.text.sha256) {
    return refuse(
      'AMENDED_TEXT_UNCHANGED',
      'Il nuovo testo coincide con la versione vigente',
      'payload.text',
    );
  }
  return null;
}

function adhesionOpenPayload(ctx: ConventionContext, ev: AdhesionOpenEvent): RuleRefusal | null {
  const p = ev.payload;
  const known = findEnte(ctx, p.ente);
  if (known && !isOut(known)) {
    return refuse(
      'ALREADY_PARTICIPANT',
      `${known.denominazione} partecipa già alla convenzione`,
      'payload.ente',
    );
  }
  if (!p.enteFacts || p.enteFacts.kind !== 'COMUNE') {
    return refuse('NOT_A_MEMBER', `${p.ente} non è un comune dell'Unione`, 'payload.ente');
  }
  return null;
}

function adhesionAcceptPayload(
  ctx: ConventionContext,
  ev: AdhesionAcceptEvent,
): RuleRefusal | null {
  const e = participant(ctx, ev.payload.ente);
  if (isRefusal(e)) return e;
  if (!e.joining || e.status !== 'EXECUTIVE') {
    return refuse(
      'ADHESION_NOT_READY',
      `${e.denominazione}: serve una deliberazione consiliare esecutiva prima di accogliere l'adesione`,
      'payload.ente',
    );
  }
  if (compareIsoDate(ev.payload.date, today(ev.at)) > 0) {
    return refuse('DELIBERATION_DATE_IN_FUTURE', 'La data non può essere futura', 'payload.date');
  }
  // DOMAIN.md §6.1: the council approves, then the Giunta dell'Unione accepts
  if (e.executivity && compareIsoDate(ev.payload.date, e.executivity.certifiedOn) < 0) {
    return refuse(
      'ADHESION_BEFORE_EXECUTIVITY',
      `L'adesione di ${e.denominazione} non può essere accolta prima che la sua deliberazione consiliare sia esecutiva (dal ${e.executivity.certifiedOn})`,
      'payload.date',
    );
  }
  return null;
}

function recessoPayload(ctx: ConventionContext, ev: RecessoEvent): RuleRefusal | null {
  const p = ev.payload;
  if (compareIsoDate(p.date, today(ev.at)) > 0) {
    return refuse(
      'DELIBERATION_DATE_IN_FUTURE',
      'La data della deliberazione non può essere futura',
      'payload.date',
    );
  }
  // a comune recedes from a convention it signed: its recesso cannot be deliberated before its signature
  const e = findEnte(ctx, p.ente);
  const signedOn = e?.signature ? romeDateOf(e.signature.signedAt) : null;
  if (signedOn && compareIsoDate(p.date, signedOn) < 0) {
    return refuse(
      'RECESSO_BEFORE_SIGNATURE',
      `Il recesso non può precedere la sottoscrizione della convenzione da parte di ${e!.denominazione} (${signedOn})`,
      'payload.date',
    );
  }
  const earliest = addCalendarDays(p.date, ctx.policy.recessoNoticeDays);
  if (compareIsoDate(p.effectiveDate, earliest) < 0) {
    return refuse(
      'RECESSO_NOTICE_TOO_SHORT',
      `Il recesso ha effetto non prima di ${ctx.policy.recessoNoticeDays} giorni dalla deliberazione (dal ${earliest})`,
      'payload.effectiveDate',
    );
  }
  return null;
}

function collectiveActPayload(ctx: ConventionContext, ev: CollectiveActEvent): RuleRefusal | null {
  if (compareIsoDate(ev.payload.date, today(ev.at)) > 0) {
    return refuse(
      'DELIBERATION_DATE_IN_FUTURE',
      'La data della deliberazione non può essere futura',
      'payload.date',
    );
  }
  // express renewal renews a convention still in force: once its term ended it has expired (however late the
  // expiry timer runs), and the entes need a new convention
  if (
    ev.type === 'convention.renewal.record' &&
    ctx.expiresOn !== null &&
    (compareIsoDate(ev.payload.date, ctx.expiresOn) > 0 ||
      compareIsoDate(today(ev.at), ctx.expiresOn) > 0)
  ) {
    return refuse(
      'RENEWAL_AFTER_EXPIRY',
      `La convenzione è scaduta il ${ctx.expiresOn}: il rinnovo espresso va deliberato entro la scadenza, dopo serve una nuova convenzione`,
      'payload.date',
    );
  }
  return null;
}

function extendPayload(ctx: ConventionContext, ev: ExtendDeadlineEvent): RuleRefusal | null {
  const p = ev.payload;
  if (p.ente === undefined) return null;
  const e = participant(ctx, p.ente);
  if (isRefusal(e)) return e;
  if (!PRE_VOTE.includes(e.status) || !e.deadline) {
    return refuse(
      'NOTHING_TO_EXTEND',
      `${e.denominazione} non ha un termine aperto da prorogare`,
      'payload.ente',
    );
  }
  return null;
}

// ---------------------------------------------------------------- the table

/** the event(s) whose type includes T (CollectiveActEvent carries two types) */
type EventOf<T extends ConventionEvent['type'], E = ConventionEvent> = E extends { type: infer U }
  ? T extends U
    ? E
    : never
  : never;
type RuleOf<T extends ConventionEvent['type']> = EventRule<ConventionContext, EventOf<T>>;

/** Every rule of the convention, by event type (events absent here have no rule beyond their state). */
export const CONVENTION_RULES: { readonly [T in ConventionEvent['type']]?: RuleOf<T> } = {
  'convention.send': { check: checkSendPayload },
  'convention.council.convene': { precondition: preVote, check: convenePayload },
  'convention.deliberation.record': { precondition: preVote, check: deliberationPayload },
  'convention.executivity.certify': {
    precondition: awaitingExecutivity,
    check: executivityPayload,
  },
  'convention.sign': { precondition: maySign, check: signPayload },
  'convention.amendment.accept': { check: newTextPayload },
  'convention.amendment.open': { precondition: noAdhesionUnderWay, check: newTextPayload },
  'convention.adhesion.open': { check: adhesionOpenPayload },
  'convention.adhesion.accept': { precondition: someoneToAdmit, check: adhesionAcceptPayload },
  'convention.recesso.record': { precondition: mayRecede, check: recessoPayload },
  'convention.renewal.record': {
    precondition: mayRecordAct('RINNOVO'),
    check: collectiveActPayload,
  },
  'convention.dissolution.record': {
    precondition: mayRecordAct('SCIOGLIMENTO'),
    check: collectiveActPayload,
  },
  'convention.deadline.extend': { precondition: openTerms, check: extendPayload },
  // each council's term from its own PEC receipt (system) or a delivery recorded by hand (convention.delivery.ts)
  'convention.delivery.receipt': { precondition: deliveryOpen, check: checkDelivery },
  'convention.delivery.record': { precondition: deliveryOpen, check: checkDelivery },
};

/** the whole rule of one event (precondition, then payload): what the machine's guard and the engine ask */
export function conventionRule(ctx: ConventionContext, ev: ConventionEvent): RuleRefusal | null {
  return evaluateRule(
    CONVENTION_RULES[ev.type] as EventRule<ConventionContext> | undefined,
    ctx,
    ev,
  );
}

// named entry points (tests, docs): each is the table's rule for that event
export const checkSend = (ctx: ConventionContext, ev: SendEvent) => conventionRule(ctx, ev);
export const checkDeliberation = (ctx: ConventionContext, ev: RecordDeliberationEvent) =>
  conventionRule(ctx, ev);
export const checkExecutivity = (ctx: ConventionContext, ev: CertifyExecutivityEvent) =>
  conventionRule(ctx, ev);
export const checkSign = (ctx: ConventionContext, ev: SignEvent) => conventionRule(ctx, ev);
export const checkConvene = (ctx: ConventionContext, ev: ConveneEvent) => conventionRule(ctx, ev);
export const checkExtend = (ctx: ConventionContext, ev: ExtendDeadlineEvent) =>
  conventionRule(ctx, ev);
export const checkRecesso = (ctx: ConventionContext, ev: RecessoEvent) => conventionRule(ctx, ev);
export const checkCollectiveAct = (ctx: ConventionContext, ev: CollectiveActEvent) =>
  conventionRule(ctx, ev);
export const checkAdhesionOpen = (ctx: ConventionContext, ev: AdhesionOpenEvent) =>
  conventionRule(ctx, ev);
export const checkAdhesionAccept = (ctx: ConventionContext, ev: AdhesionAcceptEvent) =>
  conventionRule(ctx, ev);
export const checkAmendmentAccept = (ctx: ConventionContext, ev: AmendmentAcceptEvent) =>
  conventionRule(ctx, ev);
/** the addendum of a joining comune: the same rule as `convention.sign` (the phase is in the context) */
export const checkSignAddendum = checkSign;
