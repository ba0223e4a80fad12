import type { Actor, Role } from '@app/common';
import { UNIONI_FIXTURES } from '@app/persistence';

/** A fixture user of the development sign-in page: one per role and ente of the unions of DOMAIN.md §6. */
export interface DevUser {
  id: string;
  name: string;
  roles: Role[];
  ente: string | null;
  unione: string | null;
  /** the Unione's name, to group the list */
  group: string;
}

const user = (
  role: Role,
  ente: string | null,
  unione: string | null,
  name: string,
  group: string,
): DevUser => ({
  id: `${role}.${ente ?? 'piattaforma'}`,
  name,
  roles: [role],
  ente,
  unione,
  group,
});

export const DEV_USERS: readonly DevUser[] = [
  ...UNIONI_FIXTURES.flatMap((u) => [
    user(
      'presidente',
      u.codiceIpa,
      u.codiceIpa,
      `Presidente – ${u.denominazione}`,
      u.denominazione,
    ),
    user('staff', u.codiceIpa, u.codiceIpa, `Staff – ${u.denominazione}`, u.denominazione),
    user(
      'segretario',
      u.codiceIpa,
      u.codiceIpa,
      `Segretario – ${u.denominazione}`,
      u.denominazione,
    ),
    ...u.comuni.flatMap((c) => [
      user(
        'segretario',
        c.codiceIpa,
        u.codiceIpa,
        `Segretario comunale – ${c.denominazione}`,
        u.denominazione,
      ),
      user('sindaco', c.codiceIpa, u.codiceIpa, `Sindaco – ${c.denominazione}`, u.denominazione),
    ]),
    user(
      'appointee',
      u.codiceIpa,
      u.codiceIpa,
      `RTD nominato – ${u.denominazione}`,
      u.denominazione,
    ),
  ]),
  user('admin', null, null, 'Amministratore della piattaforma', 'Piattaforma'),
  user('auditor', null, null, 'Revisore (sola lettura)', 'Piattaforma'),
];

export function devActor(u: DevUser): Actor {
  return { subject: u.id, name: u.name, roles: u.roles, ente: u.ente, unione: u.unione };
}
