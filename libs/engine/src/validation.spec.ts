/** Validation messages say what is wrong in plain words, not class-validator's templates (issue 10). */
import 'reflect-metadata';
import { ValidationFailedError, type FieldError } from '@app/common';
import {
  FreezeTextDto,
  RecordDeliberationDto,
  SendToCouncilsDto,
  SignConventionDto,
  StartConventionDto,
} from '@app/workflows';
import { validatePayload } from './validation';

async function fieldsOf(cls: Parameters<typeof validatePayload>[0], value: unknown) {
  try {
    await validatePayload(cls, value, 'payload');
  } catch (err) {
    if (err instanceof ValidationFailedError) return err.fields;
    throw err;
  }
  return [] as FieldError[];
}
const errorsOf = (fields: FieldError[], field: string) =>
  fields.find((f) => f.field === field)?.errors;

describe('validation messages', () => {
  const good = {
    ente: 'c_g843',
    number: '12',
    date: '2026-03-05',
    outcome: 'APPROVED',
  };

  it('a missing field is "required", and only that', async () => {
    const fields = await fieldsOf(RecordDeliberationDto, { ente: 'c_g843' });
    expect(errorsOf(fields, 'payload.number')).toEqual(['required']);
    expect(errorsOf(fields, 'payload.date')).toEqual(['required']);
    expect(errorsOf(fields, 'payload.outcome')).toEqual(['required']);
  });

  it('a bad date says the format and that it may not be after today in Rome, once', async () => {
    const fields = await fieldsOf(RecordDeliberationDto, { ...good, date: '05/03/2026' });
    expect(fields).toEqual([
      { field: 'payload.date', errors: ['must be a date YYYY-MM-DD not after today in Rome'] },
    ]);
    const impossible = await fieldsOf(RecordDeliberationDto, { ...good, date: '2026-02-30' });
    expect(errorsOf(impossible, 'payload.date')).toEqual([
      'must be a date YYYY-MM-DD not after today in Rome',
    ]);
  });

  it('instants: a date in Rome or a date-time ISO 8601, no library wording', async () => {
    const fields = await fieldsOf(SendToCouncilsDto, { deliveredAt: 'ieri' });
    expect(errorsOf(fields, 'payload.deliveredAt')).toEqual([
      expect.stringMatching(/^must be a date YYYY-MM-DD \(a day in Rome\) or a date-time ISO 8601/),
    ]);
    const sign = await fieldsOf(SignConventionDto, {
      ente: 'c_g843',
      signedAt: '2026-03-10',
      signatureType: 'PENNA',
      digitalSignature: 'yes',
    });
    expect(errorsOf(sign, 'payload.signedAt')).toBeUndefined();
    expect(errorsOf(sign, 'payload.signatureType')).toEqual([
      'must be one of the following values: FIRMA_DIGITALE, FEA, FEQ',
    ]);
    expect(errorsOf(sign, 'payload.digitalSignature')).toEqual(['must be true or false']);
  });

  it('no template shows the property name or a regular expression', async () => {
    const fields = [
      ...(await fieldsOf(RecordDeliberationDto, {
        ente: 'Pontedera!',
        number: 'dodici',
        date: '2026-03-05',
        outcome: 'APPROVED',
        votes: { favorevoli: -1, contrari: 0, astenuti: 0, presenti: 1, assegnati: 1 },
        sneaky: 1,
      })),
      ...(await fieldsOf(FreezeTextDto, { text: '' })),
      ...(await fieldsOf(StartConventionDto, { title: 'x', unione: 'u_valdera', members: [] })),
    ];
    expect(Object.fromEntries(fields.map((f) => [f.field, f.errors]))).toEqual({
      'payload.ente': ['must be a codice IPA'],
      'payload.number': ['must be a number, optionally /YYYY'],
      'payload.votes.favorevoli': ['must not be less than 0'],
      'payload.sneaky': ['unknown field: payload.sneaky'],
      'payload.text': ['must not be empty'],
      'payload.members': ['must contain at least 1 elements'],
    });
    for (const f of fields) for (const e of f.errors) expect(e).not.toMatch(/\/\^|\$\//);
  });
});
