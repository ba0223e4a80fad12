import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { updateReturning } from './sql';
import { newWebhookSecret } from './webhook-signature';

export interface WebhookView {
  id: string;
  unione: string;
  url: string;
  description: string | null;
  createdBy: string;
  createdAt: Date;
  rotatedAt: Date | null;
  /** during a rotation, the previous secret still signs (a second `v1=`) until this instant */
  previousSecretValidUntil: Date | null;
}

export interface WebhookWithSecret extends WebhookView {
  /** shown once, at creation and at rotation: Iter never shows it again */
  secret: string;
}

const COLUMNS = `id, unione, url, description, created_by AS "createdBy", created_at AS "createdAt",
  rotated_at AS "rotatedAt", CASE WHEN previous_valid_until > now() THEN previous_valid_until END AS "previousSecretValidUntil"`;

/** Webhook subscriptions of an Unione (docs/notifications.md "Webhooks"). */
export class WebhookSubscriptions {
  constructor(
    private readonly ds: DataSource,
    private readonly overlapMs: number,
  ) {}

  async create(
    unione: string,
    url: string,
    description: string | null,
    by: string,
  ): Promise<WebhookWithSecret> {
    const secret = newWebhookSecret();
    const rows = await this.ds.query<WebhookView[]>(
      `INSERT INTO webhook_subscription (id, unione, url, description, secret, created_by)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [randomUUID(), unione, url, description, secret, by],
    );
    return { ...rows[0]!, secret };
  }

  /** `unione` null: every unione (platform admin) */
  list(unione: string | null): Promise<WebhookView[]> {
    return this.ds.query<WebhookView[]>(
      `SELECT ${COLUMNS} FROM webhook_subscription WHERE deleted_at IS NULL ${unione ? 'AND unione = $1' : ''}
       ORDER BY created_at`,
      unione ? [unione] : [],
    );
  }

  async remove(id: string, unione: string | null): Promise<boolean> {
    const rows = await updateReturning<unknown>(
      this.ds,
      `UPDATE webhook_subscription SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL
       ${unione ? 'AND unione = $2' : ''} RETURNING id`,
      unione ? [id, unione] : [id],
    );
    return rows.length > 0;
  }

  /** a new secret; the previous one keeps signing (a second `v1=` signature) for the overlap window */
  async rotate(id: string, unione: string | null): Promise<WebhookWithSecret | null> {
    const secret = newWebhookSecret();
    const rows = await updateReturning<WebhookView>(
      this.ds,
      `UPDATE webhook_subscription SET previous_secret = secret, secret = $2, rotated_at = now(),
              previous_valid_until = now() + make_interval(secs => $3::double precision / 1000)
       WHERE id = $1 AND deleted_at IS NULL ${unione ? 'AND unione = $4' : ''} RETURNING ${COLUMNS}`,
      unione ? [id, secret, this.overlapMs, unione] : [id, secret, this.overlapMs],
    );
    return rows[0] ? { ...rows[0], secret } : null;
  }
}
