import type { Actor, Role } from '@app/common';
import type { EventSpec } from '@app/workflows';

export interface Authorized {
  role: Role;
}

/**
 * Authorize one event for one actor from the definition's metadata. Returns a reason in Italian when refused.
 * Read tenancy (canRead) is checked before this, and answers 404 rather than 403. Acting needs more than
 * reading: the actor must work in the tenant (actor.unione === tenant), so a platform admin or auditor
 * (unione null) who may read every process can never act on one, whatever other roles its token carries.
 */
export function authorizeEvent(
  spec: EventSpec,
  actor: Actor,
  tenant: string,
  participants: readonly string[],
  payloadEnte: string | undefined,
  /** for `appointee`-scoped events: the codice fiscale of the person the process names */
  appointee?: string | null,
): string | null {
  if (spec.scope === 'system') {
    return actor.roles.includes('system')
      ? null
      : 'Evento riservato al sistema (scadenze e promemoria)';
  }
  const role = spec.roles.find((r) => actor.roles.includes(r));
  if (!role) return `Ruolo non abilitato: servono ${spec.roles.join(' o ')}`;
  if (actor.unione !== tenant)
    return `Solo chi opera nell'Unione ${tenant} può agire su questo procedimento`;
  if (spec.scope === 'appointee') {
    // the token's subject is the appointee's codice fiscale (docs/rtd.md)
    return appointee && actor.subject === appointee
      ? null
      : 'Solo la persona nominata in questo procedimento può compiere questo atto';
  }
  if (spec.scope === 'unione') {
    return actor.ente === tenant ? null : `Solo l'Unione (${tenant}) può compiere questo atto`;
  }
  // scope 'ente': one acts only for one's own ente, and that ente must take part in the process
  if (payloadEnte === undefined) return null; // checked again once the payload is validated
  if (actor.ente !== payloadEnte)
    return `Si può agire solo per il proprio ente (${actor.ente ?? 'nessuno'}), non per ${payloadEnte}`;
  if (!participants.includes(payloadEnte))
    return `L'ente ${payloadEnte} non partecipa a questo procedimento`;
  return null;
}

export function roleFor(spec: EventSpec, actor: Actor): Role {
  if (spec.scope === 'system') return 'system';
  return spec.roles.find((r) => actor.roles.includes(r)) ?? actor.roles[0] ?? 'system';
}

/** Who may read a tenant's processes: its own people, and platform admins/auditors without a unione. */
export function canRead(actor: Actor, tenant: string): boolean {
  if (actor.unione === tenant) return true;
  return (
    actor.unione === null &&
    (actor.roles.includes('admin') ||
      actor.roles.includes('auditor') ||
      actor.roles.includes('system'))
  );
}
