/** Roles known to Iter. Definitions say which roles may send which event (see libs/workflows). */
export const ROLES = [
  'presidente',
  'segretario',
  'sindaco',
  'staff',
  'gruppo_lavoro',
  'appointee',
  'auditor',
  'admin',
  'system',
] as const;
export type Role = (typeof ROLES)[number];

/** Who acts: the verified token's subject, roles and scope. */
export interface Actor {
  subject: string;
  name?: string;
  roles: Role[];
  /** codice IPA of the ente the actor belongs to (a comune or the unione) */
  ente: string | null;
  /** codice IPA of the unione (tenant) the actor works in; null only for the system actor */
  unione: string | null;
  /**
   * Where the actor's `ente` stands in the ente registry, resolved by the engine (never from a token):
   * `undefined` = not resolved yet, `null` = not in the registry.
   */
  standing?: EnteStanding | null;
}

export type EnteKind = 'COMUNE' | 'UNIONE';

/** An ente as the registry knows it: its kind and the unione it belongs to (an unione belongs to itself). */
export interface EnteStanding {
  kind: EnteKind;
  unione: string | null;
}

export const SYSTEM_ACTOR: Actor = {
  subject: 'system',
  name: 'Iter',
  roles: ['system'],
  ente: null,
  unione: null,
};

/** The audit record of an actor: one role and one ente, the ones the action was authorized under. */
export interface ActorRecord {
  subject: string;
  role: Role;
  ente: string | null;
}
