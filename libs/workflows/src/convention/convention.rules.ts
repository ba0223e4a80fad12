import {
  addCalendarDays,
  backwardTerm,
  compareIsoDate,
  isIsoDate,
  toRomeDate,
} from '@app/calendar';
import { sha256Hex } from '@app/common';
import type { RuleRefusal } from '../definition';
import type {
  AdhesionAcceptEvent,
  AdhesionOpenEvent,
  AmendmentAcceptEvent,
  CollectiveActEvent,
  ConveneEvent,
  RecessoEvent,
  CertifyExecutivityEvent,
  ConventionContext,
  EnteProgress,
  ExtendDeadlineEvent,
  RecordDeliberationEvent,
  SendEvent,
  SignEvent,
  Votes,
} from './convention.types';

/**
 * Domain rules of the convention, as pure functions returning a refusal or null. The machine's guards call
 * them (so the machine is right on its own) and the engine calls them first to tell the user *why* (422).
 */
const refuse = (rule: string, message: string, field?: string): RuleRefusal =>
  field === undefined ? { rule, message } : { rule, message, field };

/** an ente that still takes part: not out (rejected under QUORUM, non aderente, receduto) and not still joining */
export const isActive = (e: EnteProgress): boolean =>
  !e.joining && e.status !== 'REJECTED' && e.status !== 'NON_ADERENTE' && e.status !== 'RECEDUTO';

export const PRE_VOTE: readonly string[] = ['INVITED', 'COUNCIL_CONVENED'];

const today = (at: string) => toRomeDate(new Date(at));

export function findEnte(ctx: ConventionContext, ente: string): EnteProgress | undefined {
  return ctx.entes.find((e) => e.codiceIpa === ente);
}

function participant(ctx: ConventionContext, ente: string): EnteProgress | RuleRefusal {
  const e = findEnte(ctx, ente);
  return (
    e ??
    refuse(
      'ENTE_NOT_PARTICIPANT',
      `L'ente ${ente} non partecipa a questa convenzione`,
      'payload.ente',
    )
  );
}
const isRefusal = (x: EnteProgress | RuleRefusal): x is RuleRefusal => 'rule' in x;

export function checkSend(ctx: ConventionContext, ev: SendEvent): RuleRefusal | null {
  const delivered = Date.parse(ev.payload.deliveredAt);
  if (delivered > Date.parse(ev.at)) {
    return refuse(
      'DELIVERY_IN_FUTURE',
      'La data di consegna PEC non può essere futura',
      'payload.deliveredAt',
    );
  }
  if (ctx.text && delivered < Date.parse(ctx.text.frozenAt)) {
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

export function checkDeliberation(
  ctx: ConventionContext,
  ev: RecordDeliberationEvent,
): RuleRefusal | null {
  const p = ev.payload;
  const e = participant(ctx, p.ente);
  if (isRefusal(e)) return e;
  if (!PRE_VOTE.includes(e.status)) {
    return refuse(
      'DELIBERATION_ALREADY_RECORDED',
      `La deliberazione di ${e.denominazione} è già registrata (${e.status})`,
    );
  }
  if (!isIsoDate(p.date)) return refuse('INVALID_DATE', 'Data non valida', 'payload.date');
  if (compareIsoDate(p.date, toRomeDate(new Date(ev.at))) > 0) {
    return refuse(
      'DELIBERATION_DATE_IN_FUTURE',
      'La data della seduta non può essere futura',
      'payload.date',
    );
  }
  if (ctx.sentAt && compareIsoDate(p.date, toRomeDate(new Date(ctx.sentAt))) < 0) {
    return refuse(
      'DELIBERATION_BEFORE_SENDING',
      "La seduta non può precedere l'invio dello schema",
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
    if (e.joining)
      return refuse(
        'AMENDMENT_NOT_ALLOWED',
        'Chi aderisce successivamente approva il testo vigente senza emendamenti',
      );
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

export function checkExecutivity(
  ctx: ConventionContext,
  ev: CertifyExecutivityEvent,
): RuleRefusal | null {
  const p = ev.payload;
  const e = participant(ctx, p.ente);
  if (isRefusal(e)) return e;
  if (e.status !== 'APPROVED' || !e.deliberation) {
    return refuse(
      'EXECUTIVITY_NOT_APPLICABLE',
      `Nessuna deliberazione approvata in attesa di esecutività per ${e.denominazione}`,
    );
  }
  if (compareIsoDate(p.publicationStart, e.deliberation.date) < 0) {
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
  if (compareIsoDate(p.executiveOn, toRomeDate(new Date(ev.at))) > 0) {
    return refuse(
      'EXECUTIVITY_DATE_IN_FUTURE',
      "Non si può certificare un'esecutività futura",
      'payload.executiveOn',
    );
  }
  return null;
}

export function checkSign(ctx: ConventionContext, ev: SignEvent): RuleRefusal | null {
  const p = ev.payload;
  const e = participant(ctx, p.ente);
  if (isRefusal(e)) return e;
  if (!p.digitalSignature) {
    return refuse(
      'DIGITAL_SIGNATURE_REQUIRED',
      'La convenzione va sottoscritta con firma digitale, pena la nullità (art. 15 c.2-bis L. 241/1990)',
      'payload.digitalSignature',
    );
  }
  if (e.status === 'SIGNED')
    return refuse('ALREADY_SIGNED', `${e.denominazione} ha già sottoscritto`);
  if (e.status !== 'EXECUTIVE') {
    return refuse(
      'DELIBERATION_NOT_EXECUTIVE',
      `La deliberazione di ${e.denominazione} non è ancora esecutiva`,
    );
  }
  if (Date.parse(p.signedAt) > Date.parse(ev.at)) {
    return refuse(
      'SIGNATURE_IN_FUTURE',
      'La data di sottoscrizione non può essere futura',
      'payload.signedAt',
    );
  }
  if (
    e.executivity &&
    compareIsoDate(toRomeDate(new Date(p.signedAt)), e.executivity.certifiedOn) < 0
  ) {
    return refuse(
      'SIGNATURE_BEFORE_EXECUTIVITY',
      'La sottoscrizione non può precedere l’esecutività della deliberazione',
      'payload.signedAt',
    );
  }
  return null;
}

/** a joining comune signs the addendum once the Giunta dell'Unione admitted it */
export function checkSignAddendum(ctx: ConventionContext, ev: SignEvent): RuleRefusal | null {
  const e = participant(ctx, ev.payload.ente);
  if (isRefusal(e)) return e;
  if (!e.joining)
    return refuse('NOT_JOINING', `${e.denominazione} ha già sottoscritto la convenzione`);
  if (e.status !== 'ADMITTED')
    return refuse('ADHESION_NOT_ACCEPTED', `L'adesione di ${e.denominazione} non è ancora accolta`);
  if (!ev.payload.digitalSignature) {
    return refuse(
      'DIGITAL_SIGNATURE_REQUIRED',
      'L’addendum va sottoscritto con firma digitale (art. 15 c.2-bis L. 241/1990)',
      'payload.digitalSignature',
    );
  }
  if (Date.parse(ev.payload.signedAt) > Date.parse(ev.at)) {
    return refuse(
      'SIGNATURE_IN_FUTURE',
      'La data di sottoscrizione non può essere futura',
      'payload.signedAt',
    );
  }
  if (
    e.executivity &&
    compareIsoDate(toRomeDate(new Date(ev.payload.signedAt)), e.executivity.certifiedOn) < 0
  ) {
    return refuse(
      'SIGNATURE_BEFORE_EXECUTIVITY',
      'La sottoscrizione non può precedere l’esecutività della deliberazione',
      'payload.signedAt',
    );
  }
  return null;
}

export function checkConvene(ctx: ConventionContext, ev: ConveneEvent): RuleRefusal | null {
  const p = ev.payload;
  const e = participant(ctx, p.ente);
  if (isRefusal(e)) return e;
  if (!PRE_VOTE.includes(e.status))
    return refuse('DELIBERATION_ALREADY_RECORDED', `${e.denominazione} ha già deliberato`);
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

export function checkAmendmentAccept(
  ctx: ConventionContext,
  ev: AmendmentAcceptEvent,
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

export function checkAdhesionOpen(
  ctx: ConventionContext,
  ev: AdhesionOpenEvent,
): RuleRefusal | null {
  const p = ev.payload;
  const known = findEnte(ctx, p.ente);
  if (
    known &&
    known.status !== 'RECEDUTO' &&
    known.status !== 'NON_ADERENTE' &&
    known.status !== 'REJECTED'
  ) {
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

export function checkAdhesionAccept(
  ctx: ConventionContext,
  ev: AdhesionAcceptEvent,
): RuleRefusal | null {
  const e = participant(ctx, ev.payload.ente);
  if (isRefusal(e)) return e;
  if (!e.joining || e.status !== 'EXECUTIVE') {
    return refuse(
      'ADHESION_NOT_READY',
      `${e.denominazione}: serve una deliberazione consiliare esecutiva prima di accogliere l'adesione`,
    );
  }
  if (compareIsoDate(ev.payload.date, today(ev.at)) > 0) {
    return refuse('DELIBERATION_DATE_IN_FUTURE', 'La data non può essere futura', 'payload.date');
  }
  return null;
}

export function checkRecesso(ctx: ConventionContext, ev: RecessoEvent): RuleRefusal | null {
  const p = ev.payload;
  const e = participant(ctx, p.ente);
  if (isRefusal(e)) return e;
  if (e.kind !== 'COMUNE' || !isActive(e))
    return refuse('NOT_AN_ACTIVE_COMUNE', `${e.denominazione} non può recedere`);
  if (e.recesso)
    return refuse('RECESSO_ALREADY_RECORDED', `Il recesso di ${e.denominazione} è già registrato`);
  if (compareIsoDate(p.date, today(ev.at)) > 0) {
    return refuse(
      'DELIBERATION_DATE_IN_FUTURE',
      'La data della deliberazione non può essere futura',
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

export function checkCollectiveAct(
  ctx: ConventionContext,
  ev: CollectiveActEvent,
): RuleRefusal | null {
  const p = ev.payload;
  const e = participant(ctx, p.ente);
  if (isRefusal(e)) return e;
  if (!isActive(e))
    return refuse(
      'NOT_AN_ACTIVE_PARTICIPANT',
      `${e.denominazione} non partecipa più alla convenzione`,
    );
  const act = ev.type === 'convention.renewal.record' ? 'RINNOVO' : 'SCIOGLIMENTO';
  if (e.acts.some((a) => a.act === act))
    return refuse('ACT_ALREADY_RECORDED', `${e.denominazione} ha già deliberato (${act})`);
  if (compareIsoDate(p.date, today(ev.at)) > 0) {
    return refuse(
      'DELIBERATION_DATE_IN_FUTURE',
      'La data della deliberazione non può essere futura',
      'payload.date',
    );
  }
  return null;
}

export function checkExtend(ctx: ConventionContext, ev: ExtendDeadlineEvent): RuleRefusal | null {
  const p = ev.payload;
  if (p.ente !== undefined) {
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
  if (!ctx.entes.some((e) => PRE_VOTE.includes(e.status) && e.deadline)) {
    return refuse('NOTHING_TO_EXTEND', 'Nessun termine aperto da prorogare');
  }
  return null;
}
