import type { Actor, EnteKind, Role } from '@app/common';
import type { EventSpec } from '@app/workflows';

export interface Authorized {
  role: Role;
}

/**
 * Authorization by organ: the kinds of ente each role acts for. The sindaco is the legal representative of a
 * COMUNE, the presidente of the UNIONE; the segretario records the acts of its own ente, comune or unione.
 * A role not listed here (staff, gruppo_lavoro, appointee, ...) is bound by the event's scope alone: `unione`
 * events already require the actor's ente to be the tenant unione.
 */
export const ORGAN_KINDS: Readonly<Partial<Record<Role, readonly EnteKind[]>>> = {
  sindaco: ['COMUNE'],
  presidente: ['UNIONE'],
  segretario: ['COMUNE', 'UNIONE'],
};

/** Whether `role` may act for an ente of this kind (roles without an organ rule: any kind). */
export function organFits(role: Role, kind: EnteKind): boolean {
  const kinds = ORGAN_KINDS[role];
  return kinds === undefined || kinds.includes(kind);
}

export type RefusalCode = 'FORBIDDEN' | 'FORBIDDEN_ORGAN' | 'ACTOR_ENTE_UNKNOWN';

/** Why an actor may not send an event: a stable code (the HTTP `code`, always 403) and an Italian reason. */
export interface Refusal {
  code: RefusalCode;
  message: string;
}

const refuse = (code: RefusalCode, message: string): Refusal => ({ code, message });

/**
 * Authorize one event for one actor from the definition's metadata. Returns the refusal, or null.
 * Read tenancy (canRead) is checked before this, and answers 404 rather than 403. Acting needs more than
 * reading, checked in this order:
 * 1. one of the event's roles (FORBIDDEN);
 * 2. the actor works in the tenant (actor.unione === tenant), so a platform admin or auditor (unione null)
 *    who may read every process never acts on one, whatever other roles its token carries (FORBIDDEN);
 * 3. the actor's ente exists in the registry and belongs to the actor's unione (ACTOR_ENTE_UNKNOWN): the
 *    engine resolves `actor.standing` from the registry; an unresolved standing is refused too;
 * 4. the organ: one of those roles acts for this kind of ente (FORBIDDEN_ORGAN, see ORGAN_KINDS);
 * 5. the scope: `unione` events only by the tenant unione itself, `ente` events only for one's own ente,
 *    which must take part in the process (FORBIDDEN).
 */
export function authorizeEvent(
  spec: EventSpec,
  actor: Actor,
  tenant: string,
  participants: readonly string[],
  payloadEnte: string | undefined,
  /** for `appointee`-scoped events: the codice fiscale of the person the process names */
  appointee?: string | null,
): Refusal | null {
  if (spec.scope === 'system') {
    return actor.roles.includes('system')
      ? null
      : refuse('FORBIDDEN', 'Evento riservato al sistema (scadenze e promemoria)');
  }
  const roles = spec.roles.filter((r) => actor.roles.includes(r));
  if (roles.length === 0)
    return refuse('FORBIDDEN', `Ruolo non abilitato: servono ${spec.roles.join(' o ')}`);
  if (actor.unione !== tenant)
    return refuse(
      'FORBIDDEN',
      `Solo chi opera nell'Unione ${tenant} può agire su questo procedimento`,
    );
  const standing = actor.standing;
  if (!standing || actor.ente === null || standing.unione !== actor.unione) {
    return refuse(
      'ACTOR_ENTE_UNKNOWN',
      standing
        ? `L'ente ${actor.ente ?? 'nessuno'} del token non appartiene all'Unione ${actor.unione ?? 'nessuna'}: non può agire`
        : `L'ente ${actor.ente ?? 'nessuno'} del token non è nell'anagrafe degli enti: non può agire`,
    );
  }
  if (!roles.some((r) => organFits(r, standing.kind))) {
    return refuse(
      'FORBIDDEN_ORGAN',
      `${roles.join(' o ')} non può agire per ${standing.kind === 'COMUNE' ? 'un comune' : "un'unione"} (${actor.ente})`,
    );
  }
  if (spec.scope === 'appointee') {
    // the token's subject is the appointee's codice fiscale (docs/rtd.md)
    return appointee && actor.subject === appointee
      ? null
      : refuse(
          'FORBIDDEN',
          'Solo la persona nominata in questo procedimento può compiere questo atto',
        );
  }
  if (spec.scope === 'unione') {
    return actor.ente === tenant
      ? null
      : refuse('FORBIDDEN', `Solo l'Unione (${tenant}) può compiere questo atto`);
  }
  // scope 'ente': one acts only for one's own ente, and that ente must take part in the process
  if (payloadEnte === undefined) return null; // checked again once the payload is validated
  if (actor.ente !== payloadEnte)
    return refuse(
      'FORBIDDEN',
      `Si può agire solo per il proprio ente (${actor.ente}), non per ${payloadEnte}`,
    );
  if (!participants.includes(payloadEnte))
    return refuse('FORBIDDEN', `L'ente ${payloadEnte} non partecipa a questo procedimento`);
  return null;
}

/** The role an authorized actor acts in (recorded in the audit log): one of the event's, fitting its organ. */
export function roleFor(spec: Pick<EventSpec, 'roles' | 'scope'>, actor: Actor): Role {
  if (spec.scope === 'system') return 'system';
  const roles = spec.roles.filter((r) => actor.roles.includes(r));
  const kind = actor.standing?.kind;
  return (
    (kind ? roles.find((r) => organFits(r, kind)) : undefined) ??
    roles[0] ??
    actor.roles[0] ??
    'system'
  );
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
