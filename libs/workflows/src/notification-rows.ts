import type { NotificationSpec, ProcessDefinition } from './definition';
import type { NotifyEffect } from './effects';

export type OutboxChannel = 'inbox' | 'pec' | 'email';

/** One outbox row a notify effect asks for; the engine adds ids, the instance and the event seq. */
export interface OutboxRowSpec {
  recipientEnte: string;
  /** the role; for a PEC to an ente, every role it is addressed to, joined with '+' (e.g. `consiglio+segretario`) */
  recipientRole: string;
  channel: OutboxChannel;
  template: string;
  payload: Record<string, unknown>;
  /** unique within the transition: the engine prefixes instance id and event seq (the dedupe key) */
  key: string;
}

/** roles that are a person, not an organ of the ente: reached at their own address (see docs/notifications.md) */
const PERSONAL_ROLES: readonly string[] = ['appointee'];

const FALLBACK: NotificationSpec = {
  channel: 'pec',
  recipients: 'i destinatari indicati dal procedimento',
};

/** The channel row of a definition's table for a kind (PEC when the kind is not in the table). */
export function notificationSpec(def: ProcessDefinition, template: string): NotificationSpec {
  return def.notifications?.[template] ?? FALLBACK;
}

/**
 * The outbox rows of one notify effect: an in-app inbox row per recipient (ente, role), plus the external
 * channel of the definition's table — one PEC per ente (a PEC box is the ente's, not a person's: the council
 * and the segretario of one comune get one message addressed to both), or one e-mail per recipient role.
 * Pure: the dedupe keys make a retried transition write nothing twice.
 */
export function notificationRows(
  def: ProcessDefinition,
  e: NotifyEffect,
  unione: string,
): OutboxRowSpec[] {
  const spec = notificationSpec(def, e.template);
  const seen = new Set<string>();
  const all = [...e.to, ...(spec.addRecipients?.(e.to, unione) ?? [])];
  const to = all.filter((r) => {
    const k = `${r.ente}/${r.role}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const rows: OutboxRowSpec[] = to.map((r) => ({
    recipientEnte: r.ente,
    recipientRole: r.role,
    channel: 'inbox',
    template: e.template,
    payload: e.data,
    key: `${e.template}/${r.ente}/${r.role}/inbox`,
  }));
  if (spec.channel === 'pec') {
    // organs share their ente's PEC box; a person (the appointed RTD) has a message of its own
    const byEnte = new Map<string, string[]>();
    for (const r of to) {
      if (PERSONAL_ROLES.includes(r.role)) {
        rows.push({
          recipientEnte: r.ente,
          recipientRole: r.role,
          channel: 'pec',
          template: e.template,
          payload: { ...e.data, roles: [r.role] },
          key: `${e.template}/${r.ente}/${r.role}/pec`,
        });
        continue;
      }
      byEnte.set(r.ente, [...(byEnte.get(r.ente) ?? []), r.role]);
    }
    for (const [ente, roles] of byEnte) {
      rows.push({
        recipientEnte: ente,
        recipientRole: roles.join('+'),
        channel: 'pec',
        template: e.template,
        payload: { ...e.data, roles },
        key: `${e.template}/${ente}/pec`,
      });
    }
  } else {
    for (const r of to) {
      rows.push({
        recipientEnte: r.ente,
        recipientRole: r.role,
        channel: 'email',
        template: e.template,
        payload: { ...e.data, roles: [r.role] },
        key: `${e.template}/${r.ente}/${r.role}/email`,
      });
    }
  }
  return rows;
}
