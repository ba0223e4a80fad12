import { IsISO8601, IsOptional, Matches, MaxLength } from 'class-validator';
import {
  addDaysTerm,
  compareIsoDate,
  endOfDayRome,
  instantInRome,
  isDateOnly,
  romeDateOf,
  toRomeDate,
} from '@app/calendar';
import type { RuleRefusal } from '../definition';
import type { ConventionContext, DeliveryEvent, EnteProgress } from './convention.types';

/**
 * Each council's term runs from its OWN ricevuta di avvenuta consegna (art. 45 c.2 CAD): the delivery of the
 * text to one ente, read from the PEC receipt by Iter (`convention.delivery.receipt`, a system event) or recorded
 * by hand by the Unione when the receipt arrived another way (`convention.delivery.record`). The first delivery
 * recorded for an ente counts; its term is recomputed from it unless the council already voted or the term was
 * extended.
 */
export class DeliveryDto {
  @Matches(/^[a-z0-9_]{2,20}$/, { message: 'ente must be a codice IPA' }) ente!: string;
  /** the instant of delivery in the recipient's box (RdAC) */
  @IsISO8601({ strict: true }) deliveredAt!: string;
  /** the receipt's identifier (daticert `identificativo`), for the record */
  @IsOptional() @MaxLength(300) receiptId?: string;
}

/**
 * Whether a delivery can still be recorded at all (for the list of allowed events): some ente of the process has
 * none yet. The ente named by a payload is checked by `checkDelivery`.
 */
export function deliveryOpen(ctx: ConventionContext, ente: string | undefined): RuleRefusal | null {
  if (ente !== undefined || ctx.entes.some((e) => !e.delivery)) return null;
  return {
    rule: 'DELIVERY_ALREADY_RECORDED',
    message: 'La consegna del testo è già registrata per ogni ente',
  };
}

export function checkDelivery(ctx: ConventionContext, ev: DeliveryEvent): RuleRefusal | null {
  const e = ctx.entes.find((x) => x.codiceIpa === ev.payload.ente);
  if (!e)
    return {
      rule: 'ENTE_NOT_PARTICIPANT',
      message: `L'ente ${ev.payload.ente} non partecipa a questa convenzione`,
      field: 'payload.ente',
    };
  // as at the sending: a date alone is a Rome date (compared with Rome dates), a time without an offset is Rome
  // wall-clock time — never the server's zone, never midnight UTC
  const value = ev.payload.deliveredAt;
  const dateOnly = isDateOnly(value);
  const future = dateOnly
    ? compareIsoDate(romeDateOf(value), toRomeDate(new Date(ev.at))) > 0
    : instantInRome(value).getTime() > Date.parse(ev.at);
  if (future)
    return {
      rule: 'DELIVERY_IN_FUTURE',
      message: 'La data di consegna PEC non può essere futura',
      field: 'payload.deliveredAt',
    };
  const beforeFreeze =
    ctx.text !== null &&
    (dateOnly
      ? compareIsoDate(romeDateOf(value), romeDateOf(ctx.text.frozenAt)) < 0
      : instantInRome(value).getTime() < Date.parse(ctx.text.frozenAt));
  if (beforeFreeze)
    return {
      rule: 'DELIVERY_BEFORE_FREEZE',
      message: 'La consegna PEC non può precedere il congelamento del testo',
      field: 'payload.deliveredAt',
    };
  if (e.delivery)
    return {
      rule: 'DELIVERY_ALREADY_RECORDED',
      message: `La consegna a ${e.denominazione} è già registrata (${e.delivery.deliveredAt})`,
      field: 'payload.ente',
    };
  return null;
}

const PRE_VOTE = ['INVITED', 'COUNCIL_CONVENED'];

/** the ente's delivery recorded; its term recomputed from its own delivery date when still running as first set */
export function applyDelivery(ctx: ConventionContext, ev: DeliveryEvent): EnteProgress[] {
  return ctx.entes.map((e) => {
    if (e.codiceIpa !== ev.payload.ente) return e;
    const delivery = {
      deliveredAt: ev.payload.deliveredAt,
      source:
        ev.type === 'convention.delivery.receipt' ? ('pec-receipt' as const) : ('manual' as const),
      receiptId: ev.payload.receiptId ?? null,
      recordedAt: ev.at,
    };
    const d = e.deadline;
    if (!PRE_VOTE.includes(e.status) || !d || d.overdue || d.extensions > 0)
      return { ...e, delivery };
    // the same term as the one set at the sending: start day excluded, holiday-shifted, Saturday per policy
    const date = addDaysTerm(romeDateOf(ev.payload.deliveredAt), ctx.policy.councilDeadlineDays, {
      saturdayExtends: ctx.policy.saturdayExtends === true,
    });
    return {
      ...e,
      delivery,
      deadline: { ...d, date, dueAt: endOfDayRome(date).toISOString(), setAt: ev.at },
    };
  });
}
