import type { Actor, EnteStanding, Role } from '@app/common';
import type { EventSpec } from '@app/workflows';
import { authorizeEvent, organFits, roleFor } from './authorization';

const U = 'u_valdera';
const X = 'c_g843';
const sign: EventSpec = {
  description: 'sign',
  roles: ['sindaco', 'presidente'],
  scope: 'ente',
};
const freeze: EventSpec = {
  description: 'freeze',
  roles: ['presidente', 'staff'],
  scope: 'unione',
};
const comune: EnteStanding = { kind: 'COMUNE', unione: U };
const theUnione: EnteStanding = { kind: 'UNIONE', unione: U };
const actor = (roles: Role[], ente: string, standing: EnteStanding | null | undefined): Actor => ({
  subject: 's',
  roles,
  ente,
  unione: U,
  standing,
});
const code = (spec: EventSpec, a: Actor, payloadEnte?: string) =>
  authorizeEvent(spec, a, U, [U, X], payloadEnte)?.code ?? null;

describe('authorization by organ', () => {
  it('the sindaco signs for a comune, the presidente for the unione, never the other way round', () => {
    expect(code(sign, actor(['sindaco'], X, comune), X)).toBeNull();
    expect(code(sign, actor(['presidente'], U, theUnione), U)).toBeNull();
    expect(code(sign, actor(['presidente'], X, comune), X)).toBe('FORBIDDEN_ORGAN');
    expect(code(sign, actor(['sindaco'], U, theUnione), U)).toBe('FORBIDDEN_ORGAN');
  });

  it('a token whose ente is unknown, unresolved or of another unione acts on nothing', () => {
    expect(code(sign, actor(['sindaco'], 'c_x000', null), 'c_x000')).toBe('ACTOR_ENTE_UNKNOWN');
    expect(code(sign, actor(['sindaco'], X, undefined), X)).toBe('ACTOR_ENTE_UNKNOWN');
    expect(
      code(sign, actor(['sindaco'], 'c_b865', { kind: 'COMUNE', unione: 'u_miracoli' }), 'c_b865'),
    ).toBe('ACTOR_ENTE_UNKNOWN');
    expect(code(freeze, actor(['presidente'], 'u_x', null))).toBe('ACTOR_ENTE_UNKNOWN');
  });

  it('a token with both organs acts as the one that fits its ente, and is recorded so', () => {
    const both = actor(['presidente', 'sindaco'], X, comune);
    expect(code(sign, both, X)).toBeNull();
    expect(roleFor(sign, both)).toBe('sindaco');
    expect(roleFor(sign, { ...both, ente: U, standing: theUnione })).toBe('presidente');
  });

  it('keeps the other refusals: a role not listed, another tenant, the wrong ente (FORBIDDEN)', () => {
    expect(code(sign, actor(['segretario'], X, comune), X)).toBe('FORBIDDEN');
    expect(code(sign, { ...actor(['sindaco'], X, comune), unione: 'u_miracoli' }, X)).toBe(
      'FORBIDDEN',
    );
    expect(code(sign, actor(['sindaco'], X, comune), U)).toBe('FORBIDDEN');
    expect(code(freeze, actor(['staff'], X, comune))).toBe('FORBIDDEN');
    expect(code(freeze, actor(['staff'], U, theUnione))).toBeNull();
  });

  it('organs: sindaco COMUNE, presidente UNIONE, segretario both, other roles by scope only', () => {
    expect([organFits('sindaco', 'COMUNE'), organFits('sindaco', 'UNIONE')]).toEqual([true, false]);
    expect([organFits('presidente', 'COMUNE'), organFits('presidente', 'UNIONE')]).toEqual([
      false,
      true,
    ]);
    expect([organFits('segretario', 'COMUNE'), organFits('segretario', 'UNIONE')]).toEqual([
      true,
      true,
    ]);
    expect(organFits('staff', 'COMUNE')).toBe(true);
  });
});
