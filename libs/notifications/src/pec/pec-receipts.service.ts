import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { notificationSpec, type DefinitionRegistry } from '@app/workflows';
import { batchJobId, type DeliveryLogger } from '../delivery.service';
import { updateReturning } from '../sql';
import { DaticertError, NON_DELIVERY, parseDaticert, type Daticert } from './daticert';

/** Sends a system event into a process (the engine's dispatch as the system actor, with an idempotency key). */
export type SystemDispatch = (
  instanceId: string,
  event: { type: string; payload: Record<string, unknown> },
  idempotencyKey: string,
) => Promise<unknown>;

export type ReceiptOutcome =
  | { status: 'applied'; receiptId: string; kind: string; eventType: string }
  | { status: 'matched'; receiptId: string; kind: string; reason: string | null }
  | { status: 'rejected'; receiptId: string; reason: string }
  | { status: 'duplicate'; receiptId: string };

interface OutboxMatch {
  id: string;
  instance_id: string;
  event_seq: number;
  tenant: string;
  recipient_ente: string;
  template: string;
  definition_key: string;
  definition_version: number;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * PEC receipts feed the process. Each message of the sending PEC box is stored as evidence (pec_receipt, raw
 * message kept) and matched to its notification by the daticert `msgid` (our Message-ID):
 * - accettazione / avvenuta-consegna update the notification (pec_status, pec_delivered_at);
 * - an avvenuta-consegna of a notice whose kind has a `deliveryEvent` (the transmission of the text) records the
 *   delivery date of that ente as a system event of the process, exactly once (idempotency key = the receipt);
 * - a mancata consegna (errore-consegna, non-accettazione, …) raises an alert to the Unione staff;
 * - anything unknown or malformed is kept aside (status `rejected`, with its reason) and changes nothing.
 * A receipt already seen (same provider identifier) is a no-op.
 */
export class PecReceipts {
  constructor(
    private readonly ds: DataSource,
    private readonly registry: DefinitionRegistry,
    private readonly dispatch: SystemDispatch,
    private readonly enqueue: (batchIds: string[]) => Promise<void>,
    private readonly log: DeliveryLogger = { log: () => undefined, warn: () => undefined },
  ) {}

  async ingest(raw: Buffer): Promise<ReceiptOutcome> {
    let d: Daticert;
    let mailId: string | null = null;
    try {
      // loaded on first use: a worker without IMAP never pays for the MIME parser at start-up
      const { simpleParser } = await import('mailparser');
      const mail = await simpleParser(raw);
      mailId = mail.messageId ?? null;
      const att = mail.attachments.find((a) => (a.filename ?? '').toLowerCase() === 'daticert.xml');
      if (!att) {
        const isReceipt = mail.headers.has('x-ricevuta');
        return this.reject(raw, mailId, isReceipt ? 'NO_DATICERT' : 'NOT_A_RECEIPT');
      }
      d = parseDaticert(att.content.toString('utf8'));
    } catch (err) {
      const reason = err instanceof DaticertError ? err.reason : 'UNREADABLE_MESSAGE';
      return this.reject(raw, mailId, reason, err instanceof Error ? err.message : undefined);
    }
    const key = `${d.kind}:${d.identificativo ?? mailId ?? sha256(raw)}`;
    const match = (
      await this.ds.query<OutboxMatch[]>(
        `SELECT o.id, o.instance_id, o.event_seq, o.tenant, o.recipient_ente, o.template, p.definition_key,
                p.definition_version
         FROM outbox o JOIN process_instance p ON p.id = o.instance_id
         WHERE o.message_id = $1 AND o.channel IN ('pec', 'email')`,
        [d.msgid],
      )
    )[0];
    if (!match) return this.reject(raw, mailId, 'UNKNOWN_MESSAGE', undefined, d, key);

    const inserted = await this.ds.query<{ id: string }[]>(
      `INSERT INTO pec_receipt (id, receipt_key, kind, msgid, outbox_id, instance_id, ente, event_time, status, daticert, raw)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received', $9, $10)
       ON CONFLICT (receipt_key) DO NOTHING RETURNING id`,
      [
        randomUUID(),
        key,
        d.kind,
        d.msgid,
        match.id,
        match.instance_id,
        match.recipient_ente,
        d.at,
        JSON.stringify(d),
        raw,
      ],
    );
    let receiptId = inserted[0]?.id;
    if (!receiptId) {
      const prior = (
        await this.ds.query<{ id: string; status: string }[]>(
          `SELECT id, status FROM pec_receipt WHERE receipt_key = $1`,
          [key],
        )
      )[0]!;
      // seen before; only a receipt whose processing was interrupted (still `received`) goes on
      if (prior.status !== 'received') return { status: 'duplicate', receiptId: prior.id };
      receiptId = prior.id;
    }

    if (d.kind === 'accettazione') {
      await this.ds.query(
        `UPDATE outbox SET pec_status = 'accettazione', updated_at = now() WHERE id = $1 AND pec_status IS NULL`,
        [match.id],
      );
    } else if (d.kind === 'avvenuta-consegna') {
      await this.ds.query(
        `UPDATE outbox SET pec_status = 'avvenuta-consegna', pec_delivered_at = COALESCE(pec_delivered_at, $2),
                updated_at = now() WHERE id = $1`,
        [match.id, d.at],
      );
    } else if (NON_DELIVERY.includes(d.kind)) {
      await this.ds.query(
        `UPDATE outbox SET pec_status = 'mancata-consegna', updated_at = now()
         WHERE id = $1 AND pec_status IS DISTINCT FROM 'avvenuta-consegna'`,
        [match.id],
      );
      await this.alert(receiptId, match, d);
      return this.finish(receiptId, 'matched', d, `mancata consegna (${d.error})`);
    }

    if (d.kind !== 'avvenuta-consegna') return this.finish(receiptId, 'matched', d, null);
    let eventType: string | undefined;
    try {
      const def = this.registry.get(match.definition_key, match.definition_version);
      eventType = notificationSpec(def, match.template).deliveryEvent;
    } catch {
      eventType = undefined;
    }
    if (!eventType) return this.finish(receiptId, 'matched', d, null);
    try {
      await this.dispatch(
        match.instance_id,
        {
          type: eventType,
          payload: {
            ente: match.recipient_ente,
            deliveredAt: d.at,
            receiptId: d.identificativo ?? receiptId,
          },
        },
        `pec-receipt-${receiptId}`,
      );
    } catch (err) {
      // the process does not take it (already recorded by hand, council past that stage…): evidence only
      const e = err as Error & { code?: string; details?: { rule?: string } };
      const why = `${e.details?.rule ?? e.code ?? 'ERROR'}: ${e.message}`.slice(0, 500);
      if (!e.code) throw err; // an infrastructure failure: the poller retries this receipt
      return this.finish(receiptId, 'matched', d, why);
    }
    const seq = (
      await this.ds.query<{ seq: number }[]>(
        `SELECT seq FROM process_event WHERE instance_id = $1 AND idempotency_key = $2`,
        [match.instance_id, `pec-receipt-${receiptId}`],
      )
    )[0]?.seq;
    await this.ds.query(`UPDATE pec_receipt SET status = 'applied', event_seq = $2 WHERE id = $1`, [
      receiptId,
      seq ?? null,
    ]);
    this.log.log(
      `PEC receipt ${receiptId}: ${eventType} for ${match.recipient_ente} (${match.instance_id})`,
    );
    return { status: 'applied', receiptId, kind: d.kind, eventType };
  }

  private async finish(
    receiptId: string,
    status: 'matched',
    d: Daticert,
    reason: string | null,
  ): Promise<ReceiptOutcome> {
    await this.ds.query(`UPDATE pec_receipt SET status = $2, reason = $3 WHERE id = $1`, [
      receiptId,
      status,
      reason,
    ]);
    return { status, receiptId, kind: d.kind, reason };
  }

  /** kept aside with its reason; nothing else changes */
  private async reject(
    raw: Buffer,
    mailId: string | null,
    reason: string,
    detail?: string,
    d?: Daticert,
    key?: string,
  ): Promise<ReceiptOutcome> {
    const k = key ?? `rejected:${mailId ?? sha256(raw)}`;
    const rows = await this.ds.query<{ id: string }[]>(
      `INSERT INTO pec_receipt (id, receipt_key, kind, msgid, status, reason, daticert, raw)
       VALUES ($1, $2, $3, $4, 'rejected', $5, $6, $7) ON CONFLICT (receipt_key) DO NOTHING RETURNING id`,
      [
        randomUUID(),
        k,
        d?.kind ?? null,
        d?.msgid ?? null,
        detail ? `${reason}: ${detail}`.slice(0, 500) : reason,
        d ? JSON.stringify(d) : null,
        raw,
      ],
    );
    if (!rows[0]) {
      const prior = (
        await this.ds.query<{ id: string }[]>(`SELECT id FROM pec_receipt WHERE receipt_key = $1`, [
          k,
        ])
      )[0]!;
      return { status: 'duplicate', receiptId: prior.id };
    }
    this.log.warn(`PEC box: message kept aside (${reason}), receipt ${rows[0].id}`);
    return { status: 'rejected', receiptId: rows[0].id, reason };
  }

  /** a mancata consegna: an alert to the Unione staff (inbox + e-mail), its own delivery batch */
  private async alert(receiptId: string, m: OutboxMatch, d: Daticert): Promise<void> {
    const ente = (
      await this.ds.query<{ denominazione: string }[]>(
        `SELECT denominazione FROM ente WHERE codice_ipa = $1`,
        [m.recipient_ente],
      )
    )[0];
    const payload = {
      ente: ente?.denominazione ?? m.recipient_ente,
      enteCode: m.recipient_ente,
      template: m.template,
      notificationId: m.id,
      at: d.at,
      error: d.errorDetail ?? d.error,
      instanceId: m.instance_id,
      roles: ['staff'],
    };
    const rows = await updateReturning<{ id: string }>(
      this.ds,
      `INSERT INTO outbox (id, instance_id, event_seq, tenant, recipient_ente, recipient_role, channel, template, payload,
                           status, attempts, dedupe_key)
       SELECT gen_random_uuid(), $1, $2, $3, $3, 'staff', c.channel, 'notification.delivery-failed', $4, 'pending', 0,
              'alert/' || $5 || '/' || c.channel
       FROM (VALUES ('inbox'), ('email')) AS c(channel)
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [m.instance_id, -Math.abs(m.event_seq), m.tenant, JSON.stringify(payload), receiptId],
    );
    if (rows.length) {
      this.log.warn(
        `PEC: mancata consegna to ${m.recipient_ente} (${m.instance_id}); alert raised`,
      );
      await this.enqueue([await batchJobId(this.ds, m.instance_id, -Math.abs(m.event_seq))]);
    }
  }
}
