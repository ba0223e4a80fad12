import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { canonicalJson } from '@app/common';
import { backoffDelay, type NotificationConfig } from './notification-config';
import { redact, SendError, type MailTransport } from './mail-transport';
import { updateReturning } from './sql';
import { renderNotice } from './templates';
import { signatureHeader } from './webhook-signature';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from './webhook-signature';

export interface DeliveryLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface BatchResult {
  delivered: number;
  retried: number;
  dead: number;
  skipped: number;
  /** when the batch has rows left to try (retry or a lease held by another worker) */
  retryAt: Date | null;
}

interface ClaimedRow {
  id: string;
  instance_id: string;
  event_seq: number;
  tenant: string;
  channel: 'inbox' | 'pec' | 'email' | 'webhook';
  recipient_ente: string;
  recipient_role: string;
  template: string;
  payload: Record<string, unknown>;
  attempts: number;
  subscription_id: string | null;
  message_id: string | null;
  created_at: Date;
}

interface EnteRow {
  codice_ipa: string;
  denominazione: string;
  kind: string;
  pec: string | null;
  contacts: Record<string, string>;
}

const SKIP_PEC = 'canale PEC non configurato (PEC_SMTP_URL)';
const SKIP_EMAIL = 'canale e-mail non configurato (SMTP_URL)';

class Permanent extends Error {}
class Skip extends Error {}

/**
 * Delivers the outbox rows of one transition (one BullMQ job per transition, not per recipient). A row is
 * claimed with a lease (status `sending`), so two workers never send it at once and a killed worker's row is
 * taken over when its lease ends; it is `delivered` after the channel accepted it, `pending` again with an
 * exponential, jittered `next_attempt_at` after a failure, `dead` after NOTIFY_MAX_ATTEMPTS (or a permanent
 * refusal), `skipped` when its channel is not configured. Dead and skipped rows are re-sent by an admin.
 *
 * Message-ID = `<row-uuid@MESSAGE_ID_DOMAIN>`: a resend after a crash is the same message for the receiver
 * and for the PEC receipts. No address, codice fiscale or message text is ever logged.
 */
/** told every row's outcome by channel (metrics); cheap and never throws */
export type DeliveryObserver = (
  channel: string,
  outcome: 'delivered' | 'retried' | 'dead' | 'skipped',
  rows: number,
) => void;

export class DeliveryService {
  /** metrics (the worker sets it); the default does nothing */
  observer: DeliveryObserver = () => undefined;

  constructor(
    private readonly ds: DataSource,
    private readonly cfg: NotificationConfig,
    private readonly transports: { pec: MailTransport | null; email: MailTransport | null },
    private readonly log: DeliveryLogger = { log: () => undefined, warn: () => undefined },
    private readonly http: typeof fetch = fetch,
  ) {}

  messageIdOf(rowId: string): string {
    return `<${rowId}@${this.cfg.messageIdDomain}>`;
  }

  async deliverBatch(rowId: string): Promise<BatchResult> {
    const result: BatchResult = { delivered: 0, retried: 0, dead: 0, skipped: 0, retryAt: null };
    const anchor = (
      await this.ds.query<{ instance_id: string; event_seq: number; tenant: string }[]>(
        `SELECT instance_id, event_seq, tenant FROM outbox WHERE id = $1`,
        [rowId],
      )
    )[0];
    if (!anchor) return result;
    if (anchor.event_seq > 0) await this.ensureWebhookRows(anchor);
    const claimed = await updateReturning<ClaimedRow>(
      this.ds,
      `UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = now(),
              lease_until = now() + make_interval(secs => $3::double precision / 1000),
              message_id = CASE WHEN channel IN ('pec', 'email') THEN COALESCE(message_id, '<' || id || '@' || $4 || '>') END
       WHERE instance_id = $1 AND event_seq = $2
         AND ((status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now()))
              OR (status = 'sending' AND lease_until < now()))
       RETURNING id, instance_id, event_seq, tenant, channel, recipient_ente, recipient_role, template, payload, attempts,
                 subscription_id, message_id, created_at`,
      [anchor.instance_id, anchor.event_seq, this.cfg.leaseMs, this.cfg.messageIdDomain],
    );
    // the inbox needs no I/O, and a channel that is off needs none either: one statement each
    const inbox = claimed.filter((r) => r.channel === 'inbox').map((r) => r.id);
    if (inbox.length) {
      await this.ds.query(
        `UPDATE outbox SET status = 'delivered', delivered_at = now(), lease_until = NULL, last_error = NULL,
                updated_at = now() WHERE id = ANY($1) AND status = 'sending'`,
        [inbox],
      );
      result.delivered += inbox.length;
      this.observer('inbox', 'delivered', inbox.length);
    }
    const off = claimed.filter(
      (r) =>
        (r.channel === 'pec' && !this.transports.pec) ||
        (r.channel === 'email' && !this.transports.email),
    );
    if (off.length) {
      await this.ds.query(
        `UPDATE outbox SET status = 'skipped', lease_until = NULL, updated_at = now(),
                last_error = CASE channel WHEN 'pec' THEN $2 ELSE $3 END
         WHERE id = ANY($1) AND status = 'sending'`,
        [off.map((r) => r.id), SKIP_PEC, SKIP_EMAIL],
      );
      result.skipped += off.length;
      for (const r of off) this.observer(r.channel, 'skipped', 1);
    }
    const done = new Set([...inbox, ...off.map((r) => r.id)]);
    // a few at a time: one slow SMTP peer does not hold the whole batch
    const queue = await this.groupByAddress(claimed.filter((r) => !done.has(r.id)));
    const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        const outcome = await this.deliverOne(group);
        result[outcome] += group.rows.length;
        this.observer(group.rows[0]!.channel, outcome, group.rows.length);
      }
    });
    await Promise.all(workers);
    if (result.skipped)
      this.log.log(
        `${result.skipped} notifications of ${anchor.instance_id}#${anchor.event_seq} skipped: channel not configured`,
      );
    const next = (
      await this.ds.query<{ at: Date | null }[]>(
        `SELECT min(CASE WHEN status = 'pending' THEN COALESCE(next_attempt_at, now()) ELSE lease_until END) AS at
         FROM outbox WHERE instance_id = $1 AND event_seq = $2 AND status IN ('pending', 'sending')`,
        [anchor.instance_id, anchor.event_seq],
      )
    )[0];
    result.retryAt = next?.at ? new Date(next.at) : null;
    return result;
  }

  /** one row per (transition, kind, active subscription of the tenant), created once (dedupe key) */
  private async ensureWebhookRows(a: {
    instance_id: string;
    event_seq: number;
    tenant: string;
  }): Promise<void> {
    await this.ds.query(
      `INSERT INTO outbox (id, instance_id, event_seq, tenant, recipient_ente, recipient_role, channel, template, payload,
                           status, attempts, dedupe_key, subscription_id)
       SELECT gen_random_uuid(), t.instance_id, t.event_seq, t.tenant, t.tenant, 'webhook', 'webhook', t.template,
              t.payload, 'pending', 0, 'wh/' || s.id || '/' || t.instance_id || '/' || t.event_seq || '/' || t.template, s.id
       FROM (SELECT instance_id, event_seq, tenant, template, min(created_at) AS created_at,
                    jsonb_build_object('data', (array_agg(payload - 'roles'))[1],
                      'recipients', jsonb_agg(jsonb_build_object('ente', recipient_ente, 'role', recipient_role))) AS payload
             FROM outbox WHERE instance_id = $1 AND event_seq = $2 AND channel = 'inbox'
             GROUP BY instance_id, event_seq, tenant, template) t
       JOIN webhook_subscription s ON s.unione = t.tenant AND s.deleted_at IS NULL AND s.created_at <= t.created_at
       ON CONFLICT (dedupe_key) DO NOTHING`,
      [a.instance_id, a.event_seq],
    );
  }

  /**
   * Mail rows of one transition that would reach the same mailbox with the same notice go as ONE message: the
   * roles of an ente without a personal address for each (the presidente and the staff of an Unione that gave
   * no e-mail contacts both fall back to its PEC) would otherwise receive the same text twice. The message is
   * addressed to every role of the group ("Alla c.a. di: …") and carries the first row's Message-ID; every row
   * of the group gets the outcome. A row whose address cannot be resolved is a group of its own (its error is
   * reported as before). Other channels are one row per group.
   */
  private async groupByAddress(rows: ClaimedRow[]): Promise<Group[]> {
    const mail = rows.filter((r) => r.channel === 'pec' || r.channel === 'email');
    const groups: Group[] = rows
      .filter((r) => r.channel !== 'pec' && r.channel !== 'email')
      .map((r) => ({ rows: [r] }));
    if (!mail.length) return groups;
    const codes = [...new Set(mail.flatMap((r) => [r.recipient_ente, r.tenant]))];
    const entes = new Map(
      (
        await this.ds.query<EnteRow[]>(
          `SELECT codice_ipa, denominazione, kind, pec, contacts FROM ente WHERE codice_ipa = ANY($1)`,
          [codes],
        )
      ).map((e) => [e.codice_ipa, e]),
    );
    const byKey = new Map<string, Group>();
    for (const row of mail) {
      const ente = entes.get(row.recipient_ente);
      const to = ente ? addressOf(row, ente) : undefined;
      const unione = entes.get(row.tenant);
      if (!ente || !to) {
        groups.push({ rows: [row], ente, unione });
        continue;
      }
      const key = JSON.stringify([row.channel, row.template, row.recipient_ente, to.toLowerCase()]);
      const group = byKey.get(key);
      if (group && canShareMessage(group.rows[0]!, row)) group.rows.push(row);
      else {
        const g: Group = { rows: [row], ente, unione, to };
        byKey.set(key, g);
        groups.push(g);
      }
    }
    return groups;
  }

  private async deliverOne(group: Group): Promise<'delivered' | 'retried' | 'dead' | 'skipped'> {
    const row = group.rows[0]!;
    const ids = group.rows.map((r) => r.id);
    try {
      switch (row.channel) {
        case 'inbox':
          break;
        case 'pec':
        case 'email':
          await this.sendMail(group);
          break;
        case 'webhook':
          await this.postWebhook(row);
          break;
      }
      await this.ds.query(
        `UPDATE outbox SET status = 'delivered', delivered_at = now(), lease_until = NULL, last_error = NULL,
                updated_at = now() WHERE id = ANY($1) AND status = 'sending'`,
        [ids],
      );
      return 'delivered';
    } catch (err) {
      const message = redact(err instanceof Error ? err.message : String(err));
      if (err instanceof Skip) {
        await this.ds.query(
          `UPDATE outbox SET status = 'skipped', lease_until = NULL, last_error = $2, updated_at = now()
           WHERE id = ANY($1) AND status = 'sending'`,
          [ids, message],
        );
        this.log.warn(
          `notification ${ids.join(', ')} (${row.template}, ${row.channel}) skipped: ${message}`,
        );
        return 'skipped';
      }
      const permanent = err instanceof Permanent || (err instanceof SendError && err.permanent);
      // the rows of a group were claimed together: the most tried one decides (they share one message)
      const attempts = Math.max(...group.rows.map((r) => r.attempts));
      const dead = permanent || attempts >= this.cfg.maxAttempts;
      const delay = backoffDelay(this.cfg, attempts);
      await this.ds.query(
        `UPDATE outbox SET status = $2, lease_until = NULL, last_error = $3, updated_at = now(),
                next_attempt_at = CASE WHEN $2 = 'pending' THEN now() + make_interval(secs => $4::double precision / 1000) END
         WHERE id = ANY($1) AND status = 'sending'`,
        [ids, dead ? 'dead' : 'pending', message, delay],
      );
      this.log.warn(
        `notification ${ids.join(', ')} (${row.template}, ${row.channel}, ente ${row.recipient_ente}) attempt ${attempts} failed: ${message}` +
          (dead ? ' — dead letter' : ` — retry in ${delay} ms`),
      );
      return dead ? 'dead' : 'retried';
    }
  }

  private async sendMail(group: Group): Promise<void> {
    const row = group.rows[0]!;
    const transport = row.channel === 'pec' ? this.transports.pec : this.transports.email;
    if (!transport) {
      throw new Skip(row.channel === 'pec' ? SKIP_PEC : SKIP_EMAIL);
    }
    const { ente, unione, to } = group;
    if (!ente) throw new Permanent(`ente ${row.recipient_ente} assente dal registro`);
    if (!to)
      throw new Permanent(`l’ente ${ente.codice_ipa} non ha un indirizzo per ${row.channel}`);
    const roles = [...new Set(group.rows.flatMap(rolesOf))];
    const notice = renderNotice({
      kind: row.template,
      data: row.payload,
      recipient: { codiceIpa: ente.codice_ipa, denominazione: ente.denominazione, kind: ente.kind },
      roles,
      unione: unione?.denominazione ?? row.tenant,
      processUrl: `${this.cfg.publicBaseUrl}/processi/${row.instance_id}`,
      notificationId: row.id,
      uidDomain: this.cfg.messageIdDomain,
    });
    await transport.send({
      to,
      subject: notice.subject,
      text: notice.text,
      messageId: row.message_id ?? this.messageIdOf(row.id),
      headers: {
        'X-Iter-Notification': row.id,
        'X-Iter-Kind': row.template,
        'X-Iter-Process': row.instance_id,
      },
      attachments: notice.ics
        ? [
            {
              filename: `scadenza-${notice.deadline}.ics`,
              content: notice.ics,
              contentType: 'text/calendar; charset=utf-8; method=PUBLISH',
            },
          ]
        : undefined,
    });
  }

  private async postWebhook(row: ClaimedRow): Promise<void> {
    const sub = (
      await this.ds.query<
        {
          url: string;
          secret: string;
          previous_secret: string | null;
          previous_valid_until: Date | null;
          deleted_at: Date | null;
        }[]
      >(
        `SELECT url, secret, previous_secret, previous_valid_until, deleted_at FROM webhook_subscription WHERE id = $1`,
        [row.subscription_id],
      )
    )[0];
    if (!sub || sub.deleted_at) throw new Skip('sottoscrizione webhook cancellata');
    const secrets = [sub.secret];
    if (sub.previous_secret && sub.previous_valid_until && sub.previous_valid_until > new Date())
      secrets.push(sub.previous_secret);
    const payload = row.payload as { data?: Record<string, unknown>; recipients?: unknown };
    const body = JSON.stringify({
      id: row.id,
      kind: row.template,
      tenant: row.tenant,
      instanceId: row.instance_id,
      eventSeq: row.event_seq,
      occurredAt: new Date(row.created_at).toISOString(),
      data: payload.data ?? {},
      recipients: payload.recipients ?? [],
    });
    const ts = Math.floor(Date.now() / 1000);
    let res: Response;
    try {
      res = await this.http(sub.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Iter-Webhooks/1',
          [SIGNATURE_HEADER]: signatureHeader(secrets, ts, body),
          [TIMESTAMP_HEADER]: String(ts),
          [DELIVERY_HEADER]: row.id,
          [EVENT_HEADER]: row.template,
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.cfg.webhookTimeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      throw new Error(`webhook non raggiungibile: ${(err as Error).message}`);
    }
    if (res.status === 410) throw new Permanent('webhook: 410 Gone');
    if (res.status < 200 || res.status >= 300) throw new Error(`webhook: risposta ${res.status}`);
  }

  /**
   * An admin re-sends a dead or skipped notification, or a PEC whose provider gave a mancata consegna (once the
   * registry is corrected): attempts start again, with the same Message-ID. Returns the job id of its
   * transition's batch to enqueue, or null when the row is not re-sendable.
   */
  async resend(id: string, by: string): Promise<{ batchId: string } | null> {
    const rows = await updateReturning<{ instance_id: string; event_seq: number }>(
      this.ds,
      `UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = NULL, lease_until = NULL,
              pec_status = NULL, resent_by = $2, updated_at = now()
       WHERE id = $1 AND (status IN ('dead', 'skipped', 'failed') OR pec_status = 'mancata-consegna')
       RETURNING instance_id, event_seq`,
      [id, by],
    );
    const r = rows[0];
    if (!r) return null;
    return { batchId: await batchJobId(this.ds, r.instance_id, r.event_seq) };
  }
}

/** The job id of a transition's delivery batch: the smallest id of the rows the engine wrote for it. */
export async function batchJobId(
  ds: Pick<DataSource, 'query'>,
  instanceId: string,
  eventSeq: number,
): Promise<string> {
  const rows = await ds.query<{ id: string }[]>(
    `SELECT min(id::text COLLATE "C") AS id FROM outbox
     WHERE instance_id = $1 AND event_seq = $2 AND subscription_id IS NULL`,
    [instanceId, eventSeq],
  );
  return rows[0]!.id;
}

export const newOutboxId = (): string => randomUUID();

/** rows delivered as one message, with what their address was resolved from */
interface Group {
  rows: ClaimedRow[];
  ente?: EnteRow;
  unione?: EnteRow;
  to?: string;
}

function rolesOf(row: ClaimedRow): string[] {
  return Array.isArray(row.payload['roles'])
    ? (row.payload['roles'] as string[])
    : row.recipient_role.split('+');
}

/**
 * Where a mail row goes: a person named in the data under the role (e.g. `appointee: { pec, email }`),
 * explicit addresses, the ente's contact for the role (e-mail), the ente's PEC: in this order.
 */
function addressOf(row: ClaimedRow, ente: EnteRow): string | undefined {
  const role = rolesOf(row)[0]!;
  const person = row.payload[role] as { pec?: unknown; email?: unknown } | null | undefined;
  const str = (v: unknown) => (typeof v === 'string' && v.includes('@') ? v : undefined);
  const personal =
    row.channel === 'email'
      ? (str(person?.email) ?? str(person?.pec))
      : (str(person?.pec) ?? str(person?.email));
  const given = (row.payload['addresses'] as Record<string, string> | undefined)?.[role];
  return (
    personal ??
    given ??
    (row.channel === 'email' ? (ente.contacts[role] ?? ente.pec) : ente.pec) ??
    undefined
  );
}

/** the same text for every row: the notice's data apart from whom it names */
function canShareMessage(a: ClaimedRow, b: ClaimedRow): boolean {
  const data = (r: ClaimedRow) => {
    const { roles: _roles, ...rest } = r.payload;
    return canonicalJson(rest);
  };
  return a.event_seq === b.event_seq && a.instance_id === b.instance_id && data(a) === data(b);
}
