import { compareIsoDate, isIsoDate, toRomeDate } from '@app/calendar';
import type { RuleRefusal } from '../definition';
import type {
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

export function findEnte(ctx: ConventionContext, ente: string): EnteProgress | undefined {
  return ctx.entes.find((e) => e.codiceIpa === ente);
}

function participant(ctx: ConventionContext, ente: string): EnteProgress | RuleRefusal {
  const e = findEnte(ctx, ente);
  return e ?? refuse('ENTE_NOT_PARTICIPANT', `L'ente ${ente} non partecipa a questa convenzione`, 'payload.ente');
}
const isRefusal = (x: EnteProgress | RuleRefusal): x is RuleRefusal => 'rule' in x;

export function checkSend(ctx: ConventionContext, ev: SendEvent): RuleRefusal | null {
  const delivered = Date.parse(ev.payload.deliveredAt);
  if (delivered > Date.parse(ev.at)) {
    return refuse('DELIVERY_IN_FUTURE', 'La data di consegna PEC non può essere futura', 'payload.deliveredAt');
  }
  if (ctx.text && delivered < Date.parse(ctx.text.frozenAt)) {
    return refuse('DELIVERY_BEFORE_FREEZE', 'La consegna PEC non può precedere il congelamento del testo', 'payload.deliveredAt');
  }
  return null;
}

function checkVotes(v: Votes, field: string): RuleRefusal | null {
  if (v.favorevoli + v.contrari + v.astenuti > v.presenti) {
    return refuse('VOTES_INCONSISTENT', 'Favorevoli + contrari + astenuti superano i presenti', field);
  }
  if (v.presenti > v.assegnati) {
    return refuse('VOTES_INCONSISTENT', 'I presenti superano i componenti assegnati', field);
  }
  return null;
}

export function checkDeliberation(ctx: ConventionContext, ev: RecordDeliberationEvent): RuleRefusal | null {
  const p = ev.payload;
  const e = participant(ctx, p.ente);
  if (isRefusal(e)) return e;
  if (e.status !== 'INVITED') {
    return refuse('DELIBERATION_ALREADY_RECORDED', `La deliberazione di ${e.denominazione} è già registrata (${e.status})`);
  }
  if (!isIsoDate(p.date)) return refuse('INVALID_DATE', 'Data non valida', 'payload.date');
  if (compareIsoDate(p.date, toRomeDate(new Date(ev.at))) > 0) {
    return refuse('DELIBERATION_DATE_IN_FUTURE', 'La data della seduta non può essere futura', 'payload.date');
  }
  if (ctx.sentAt && compareIsoDate(p.date, toRomeDate(new Date(ctx.sentAt))) < 0) {
    return refuse('DELIBERATION_BEFORE_SENDING', "La seduta non può precedere l'invio dello schema", 'payload.date');
  }
  const used = [...e.sessions, ...(e.deliberation ? [e.deliberation] : [])].some((d) => d.number === p.number);
  if (used) {
    return refuse('DELIBERATION_NUMBER_USED', `Il numero ${p.number} è già usato da ${e.denominazione}`, 'payload.number');
  }
  if (p.outcome === 'APPROVED') {
    if (!p.textHash) return refuse('TEXT_HASH_REQUIRED', "L'hash del testo approvato è obbligatorio", 'payload.textHash');
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
      return refuse('IE_WITHOUT_APPROVAL', "L'immediata eseguibilità richiede l'approvazione", 'payload.immediatamenteEseguibile');
    }
    if (!p.ieVotes) {
      return refuse('IE_VOTES_REQUIRED', "Indicare il voto sull'immediata eseguibilità", 'payload.ieVotes');
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

export function checkExecutivity(ctx: ConventionContext, ev: CertifyExecutivityEvent): RuleRefusal | null {
  const p = ev.payload;
  const e = participant(ctx, p.ente);
  if (isRefusal(e)) return e;
  if (e.status !== 'APPROVED' || !e.deliberation) {
    return refuse('EXECUTIVITY_NOT_APPLICABLE', `Nessuna deliberazione approvata in attesa di esecutività per ${e.denominazione}`);
  }
  if (compareIsoDate(p.publicationStart, e.deliberation.date) < 0) {
    return refuse('PUBLICATION_BEFORE_DELIBERATION', 'La pubblicazione non può precedere la seduta', 'payload.publicationStart');
  }
  if (compareIsoDate(p.executiveOn, p.publicationStart) <= 0) {
    return refuse('EXECUTIVITY_BEFORE_PUBLICATION', "L'esecutività segue la pubblicazione (art. 134 c.3 TUEL)", 'payload.executiveOn');
  }
  if (compareIsoDate(p.executiveOn, toRomeDate(new Date(ev.at))) > 0) {
    return refuse('EXECUTIVITY_DATE_IN_FUTURE', "Non si può certificare un'esecutività futura", 'payload.executiveOn');
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
  if (e.status === 'SIGNED') return refuse('ALREADY_SIGNED', `${e.denominazione} ha già sottoscritto`);
  if (e.status !== 'EXECUTIVE') {
    return refuse('DELIBERATION_NOT_EXECUTIVE', `La deliberazione di ${e.denominazione} non è ancora esecutiva`);
  }
  if (Date.parse(p.signedAt) > Date.parse(ev.at)) {
    return refuse('SIGNATURE_IN_FUTURE', 'La data di sottoscrizione non può essere futura', 'payload.signedAt');
  }
  return null;
}

export function checkExtend(ctx: ConventionContext, ev: ExtendDeadlineEvent): RuleRefusal | null {
  const p = ev.payload;
  if (p.ente !== undefined) {
    const e = participant(ctx, p.ente);
    if (isRefusal(e)) return e;
    if (e.status !== 'INVITED' || !e.deadline) {
      return refuse('NOTHING_TO_EXTEND', `${e.denominazione} non ha un termine aperto da prorogare`, 'payload.ente');
    }
    return null;
  }
  if (!ctx.entes.some((e) => e.status === 'INVITED' && e.deadline)) {
    return refuse('NOTHING_TO_EXTEND', 'Nessun termine aperto da prorogare');
  }
  return null;
}
