import { buildFields, initialValues, toPayload, type JsonSchema } from './form-schema';

/** the shapes class-validator-jsonschema writes into the OpenAPI components for the convention events */
const components: Record<string, JsonSchema> = {
  RecordDeliberationDto: {
    type: 'object',
    required: ['ente', 'number', 'date', 'outcome'],
    properties: {
      ente: { type: 'string', pattern: '^[a-z0-9_]{2,20}$' },
      number: { type: 'string', pattern: '^[0-9]{1,6}(\\/[0-9]{4})?$' },
      date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
      outcome: { type: 'string', enum: ['APPROVED', 'REJECTED'] },
      textHash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      pareri: { type: 'array', maxItems: 5, items: { $ref: '#/components/schemas/Array' } },
      votes: { $ref: '#/components/schemas/VotesDto' },
      immediatamenteEseguibile: { type: 'boolean' },
    },
  },
  VotesDto: {
    type: 'object',
    required: ['favorevoli', 'assegnati'],
    properties: {
      favorevoli: { type: 'integer', minimum: 0, maximum: 1000 },
      assegnati: { type: 'integer', minimum: 1, maximum: 1000 },
    },
  },
  ParereDto: {
    type: 'object',
    required: ['type', 'date'],
    properties: {
      type: { type: 'string', enum: ['TECNICO', 'CONTABILE'] },
      date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    },
  },
  SendToCouncilsDto: {
    type: 'object',
    required: ['deliveredAt'],
    properties: {
      deliveredAt: {
        oneOf: [
          { type: 'string', format: 'date' },
          { type: 'string', format: 'date-time' },
        ],
      },
    },
  },
};

describe('forms generated from the payload schemas', () => {
  const fields = buildFields(
    components['RecordDeliberationDto'],
    components,
    'convention.deliberation.record',
  );
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

  it('picks a widget per field and labels it in Italian', () => {
    expect(byName['ente']).toMatchObject({ kind: 'ente', required: true, label: 'Ente' });
    expect(byName['date']).toMatchObject({ kind: 'date', label: 'Data della seduta' });
    expect(byName['outcome']).toMatchObject({ kind: 'enum', enumValues: ['APPROVED', 'REJECTED'] });
    expect(byName['number']).toMatchObject({ kind: 'text', label: 'Numero della deliberazione' });
    expect(byName['immediatamenteEseguibile']?.kind).toBe('boolean');
    expect(byName['votes']).toMatchObject({ kind: 'object', required: false });
    expect(byName['votes']?.children?.map((c) => [c.path, c.kind, c.label])).toEqual([
      ['votes.favorevoli', 'integer', 'Favorevoli'],
      ['votes.assegnati', 'integer', 'Componenti assegnati'],
    ]);
    // the items the generator could not name are found through the hint (ParereDto)
    expect(byName['pareri']).toMatchObject({ kind: 'list', maxItems: 5 });
    expect(byName['pareri']?.children?.map((c) => [c.path, c.label])).toEqual([
      ['pareri.#.type', 'Tipo di parere'],
      ['pareri.#.date', 'Data del parere'],
    ]);
  });

  it('an instant (PEC delivery) gets a date-time picker in Rome time', () => {
    const [f] = buildFields(components['SendToCouncilsDto'], components, 'convention.send');
    expect(f).toMatchObject({
      kind: 'datetime',
      label: 'Consegna PEC (ricevuta di avvenuta consegna)',
    });
  });

  it('an unknown field falls back to a readable label', () => {
    const [f] = buildFields(
      { type: 'object', properties: { decreeNumberExtra: { type: 'string' } } },
      {},
      'rtd.appoint',
    );
    expect(f?.label).toBe('Decree number extra');
  });

  it('builds the payload: typed values, dates untouched, empty optional parts left out', () => {
    const v = initialValues(fields, { ente: 'c_g843' });
    v['number'] = ' 48 ';
    v['date'] = '2026-03-20';
    v['outcome'] = 'APPROVED';
    v['pareri'] = [{ type: 'TECNICO', date: '2026-03-18' }];
    expect(toPayload(fields, v)).toEqual({
      ente: 'c_g843',
      number: '48',
      date: '2026-03-20',
      outcome: 'APPROVED',
      pareri: [{ type: 'TECNICO', date: '2026-03-18' }],
    });
    (v['votes'] as Record<string, string>)['favorevoli'] = '10';
    v['immediatamenteEseguibile'] = true;
    expect(toPayload(fields, v)).toMatchObject({
      votes: { favorevoli: 10 },
      immediatamenteEseguibile: true,
    });
  });

  it('sends a Rome local date-time as an instant with its offset', () => {
    const f = buildFields(components['SendToCouncilsDto'], components);
    expect(toPayload(f, { deliveredAt: '2026-02-10T10:00' })).toEqual({
      deliveredAt: '2026-02-10T10:00:00+01:00',
    });
  });

  it('leaves a required field out when empty, so that the API names it', () => {
    expect(toPayload(fields, initialValues(fields))).toEqual({});
  });

  it('a list of codici IPA is an ente list and a list of other strings one item per line; both are sent as lists', () => {
    const comps: Record<string, JsonSchema> = {
      DecreeDto: {
        type: 'object',
        required: ['entes'],
        properties: {
          entes: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9_]{2,20}$' } },
          notes: { type: 'array', items: { type: 'string' } },
        },
      },
    };
    const fields = buildFields(comps['DecreeDto'], comps);
    expect(fields.map((f) => f.kind)).toEqual(['enteList', 'lines']);
    const v = initialValues(fields);
    expect(toPayload(fields, v)).toEqual({ entes: [] });
    expect(toPayload(fields, { entes: 'c_a864\n c_b303 \n', notes: 'uno\n\ndue' })).toEqual({
      entes: ['c_a864', 'c_b303'],
      notes: ['uno', 'due'],
    });
  });

  it('a list of integers (days) is typed separated by commas and sent as numbers', () => {
    const comps: Record<string, JsonSchema> = {
      PolicyDto: {
        type: 'object',
        properties: {
          reminderDaysBefore: { type: 'array', items: { type: 'integer', minimum: 1 } },
        },
      },
    };
    const fields = buildFields(comps['PolicyDto'], comps);
    expect(fields[0]).toMatchObject({ kind: 'lines', numericItems: true });
    expect(toPayload(fields, { reminderDaysBefore: '10, 3;1\n' })).toEqual({
      reminderDaysBefore: [10, 3, 1],
    });
    expect(toPayload(fields, { reminderDaysBefore: '' })).toEqual({});
  });
});
