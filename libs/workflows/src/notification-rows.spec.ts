import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { conventionDefinitionV1, notificationRows, type ProcessDefinition } from '@app/workflows';

const sent = {
  kind: 'notify' as const,
  template: 'convention.sent',
  to: [
    { ente: 'c_g254', role: 'consiglio' as const },
    { ente: 'c_g254', role: 'segretario' as const },
    { ente: 'c_b303', role: 'consiglio' as const },
    { ente: 'c_b303', role: 'segretario' as const },
  ],
  data: { title: 'ICT', deadline: '2026-04-07' },
};

describe('notificationRows: who receives what, on which channel', () => {
  it('an inbox row per recipient role and ONE PEC per ente, addressed to its roles', () => {
    const rows = notificationRows(conventionDefinitionV1, sent, 'u_valdera');
    expect(
      rows.filter((r) => r.channel === 'inbox').map((r) => `${r.recipientEnte}/${r.recipientRole}`),
    ).toEqual(['c_g254/consiglio', 'c_g254/segretario', 'c_b303/consiglio', 'c_b303/segretario']);
    const pec = rows.filter((r) => r.channel === 'pec');
    expect(pec.map((r) => [r.recipientEnte, r.recipientRole, r.payload['roles']])).toEqual([
      ['c_g254', 'consiglio+segretario', ['consiglio', 'segretario']],
      ['c_b303', 'consiglio+segretario', ['consiglio', 'segretario']],
    ]);
    // the dedupe keys are unique within the transition (the engine prefixes instance and seq)
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it('the definition adds recipients: a reminder also reaches the Unione’s presidente', () => {
    const rows = notificationRows(
      conventionDefinitionV1,
      { ...sent, template: 'convention.reminder', to: sent.to.slice(0, 2) },
      'u_valdera',
    );
    expect(rows.filter((r) => r.channel === 'pec').map((r) => r.recipientEnte)).toEqual([
      'c_g254',
      'u_valdera',
    ]);
    expect(
      rows.some(
        (r) =>
          r.channel === 'inbox' &&
          r.recipientEnte === 'u_valdera' &&
          r.recipientRole === 'presidente',
      ),
    ).toBe(true);
  });

  it('an amendment reaches every council, not only the segretari', () => {
    const rows = notificationRows(
      conventionDefinitionV1,
      {
        kind: 'notify',
        template: 'convention.amended',
        to: [{ ente: 'c_g254', role: 'segretario' }],
        data: {},
      },
      'u_valdera',
    );
    expect(
      rows
        .filter((r) => r.channel === 'inbox')
        .map((r) => r.recipientRole)
        .sort(),
    ).toEqual(['consiglio', 'segretario']);
  });

  it('informal notices: one e-mail per recipient role', () => {
    const rows = notificationRows(
      conventionDefinitionV1,
      {
        kind: 'notify',
        template: 'convention.deliberation-recorded',
        to: [
          { ente: 'u_valdera', role: 'presidente' },
          { ente: 'u_valdera', role: 'staff' },
        ],
        data: {},
      },
      'u_valdera',
    );
    expect(rows.filter((r) => r.channel === 'email').map((r) => r.recipientRole)).toEqual([
      'presidente',
      'staff',
    ]);
    expect(rows.some((r) => r.channel === 'pec')).toBe(false);
  });

  it('a kind missing from the table (another definition) goes by PEC, with a generic recipient role', () => {
    const bare = { ...conventionDefinitionV1, notifications: undefined } as ProcessDefinition;
    const rows = notificationRows(
      bare,
      {
        kind: 'notify',
        template: 'rtd.decree',
        to: [{ ente: 'u_valdera', role: 'appointee' }],
        data: {},
      },
      'u_valdera',
    );
    expect(rows.map((r) => [r.channel, r.recipientRole])).toEqual([
      ['inbox', 'appointee'],
      ['pec', 'appointee'],
    ]);
    // the appointee is a person: a PEC of its own, apart from the Unione's box (presidente, staff)
    const decree = notificationRows(
      bare,
      {
        kind: 'notify',
        template: 'rtd.decree-issued',
        to: [
          { ente: 'u_valdera', role: 'appointee' },
          { ente: 'u_valdera', role: 'presidente' },
          { ente: 'u_valdera', role: 'staff' },
        ],
        data: {},
      },
      'u_valdera',
    );
    expect(decree.filter((r) => r.channel === 'pec').map((r) => r.recipientRole)).toEqual([
      'appointee',
      'presidente+staff',
    ]);
  });

  it('the convention’s table names every kind the machine emits', () => {
    const src = readFileSync(join(__dirname, 'convention', 'convention.machine.ts'), 'utf8');
    const kinds = new Set(
      [...src.matchAll(/template: '([^']+)'/g), ...src.matchAll(/'(convention\.[a-z]+-[a-z-]+)'/g)]
        .map((m) => m[1]!)
        .filter((k) => k !== 'none'),
    );
    expect(kinds.size).toBeGreaterThan(15);
    for (const k of kinds) expect(conventionDefinitionV1.notifications?.[k]).toBeDefined();
  });
});
