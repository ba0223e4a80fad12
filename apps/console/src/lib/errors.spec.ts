import { asApiError, failureText, italianDates, toFormErrors } from './errors';
import { enumLabel, eventLabel, fieldLabel, stateLabel, translateValidation } from './labels';

describe('API errors shown next to the fields, in Italian', () => {
  it('a rule refusal puts the API’s Italian message on the field it names', () => {
    const e = toFormErrors(
      asApiError(422, {
        code: 'RULE_VIOLATION',
        message: 'La data della seduta non può essere futura',
        details: {
          rule: 'DELIBERATION_DATE_IN_FUTURE',
          fields: [
            { field: 'payload.date', errors: ['La data della seduta non può essere futura'] },
          ],
        },
      }),
    );
    expect(e.fields).toEqual({ date: ['La data della seduta non può essere futura'] });
    expect(e.summary).toBe('La data della seduta non può essere futura');
  });

  it('validation errors are translated and keep nested paths (list items included)', () => {
    const e = toFormErrors(
      asApiError(400, {
        code: 'VALIDATION_FAILED',
        message: 'Richiesta non valida',
        details: {
          fields: [
            {
              field: 'payload.pareri.0.date',
              errors: ['payload.pareri.0.date must be a date YYYY-MM-DD'],
            },
            { field: 'payload.votes.assegnati', errors: ['assegnati must not be less than 1'] },
          ],
        },
      }),
    );
    expect(e.fields).toEqual({
      'pareri.0.date': ['Inserire una data valida'],
      'votes.assegnati': ['Il valore minimo è 1'],
    });
    expect(e.summary).toBe('Alcuni campi non sono validi');
  });

  it('a stale form says that someone has just updated the process', () => {
    const e = toFormErrors(
      asApiError(409, {
        code: 'VERSION_CONFLICT',
        message: 'Versione non aggiornata: attesa 3, attuale 4.',
        details: { expectedVersion: 3, currentVersion: 4 },
      }),
    );
    expect(e.summary).toBe('Qualcuno ha appena aggiornato il procedimento');
    expect(e.code).toBe('VERSION_CONFLICT');
  });

  it('a body that is not an API error still gives a message', () => {
    expect(asApiError(502, 'Bad gateway')).toMatchObject({
      code: 'HTTP_502',
      message: 'Errore imprevisto',
    });
  });

  it('a message equal to the code’s label is not repeated in the summary', () => {
    const e = toFormErrors({
      status: 0,
      code: 'NETWORK',
      message: 'Impossibile contattare il server',
    });
    expect(e.summary).toBe('Impossibile contattare il server');
  });

  it('dates and instants in the API’s messages are shown as a person reads them, instants in Rome time', () => {
    expect(
      italianDates(
        'Il procedimento non esisteva ancora il 2026-01-01T09:00:00.000Z: è stato avviato il 2026-07-01T18:21:37.857Z',
      ),
    ).toBe(
      'Il procedimento non esisteva ancora il 1 gennaio 2026, 10:00: è stato avviato il 1 luglio 2026, 20:21',
    );
    expect(italianDates('La durata (fino al 2029-11-30) supera la fine (2028-12-31)')).toBe(
      'La durata (fino al 30 novembre 2029) supera la fine (31 dicembre 2028)',
    );
    const rule = toFormErrors(
      asApiError(422, {
        code: 'RULE_VIOLATION',
        message: 'La durata (fino al 2029-11-30) supera la fine',
        details: { fields: [{ field: 'payload.durationMonths', errors: ['x'] }] },
      }),
    );
    expect(rule.summary).toBe('La durata (fino al 30 novembre 2029) supera la fine');
    expect(rule.fields['durationMonths']).toEqual([rule.summary]);
  });

  it('a page’s failure: Italian, never a field name or an English text of the API', () => {
    expect(
      failureText({
        status: 400,
        code: 'VALIDATION_FAILED',
        message: 'Richiesta non valida: from',
      }),
    ).toBe('Alcuni campi non sono validi');
    expect(failureText({ status: 502, code: 'HTTP_502', message: 'Errore imprevisto' })).toBe(
      'Errore imprevisto',
    );
    expect(
      failureText({
        status: 404,
        code: 'PROCESS_NOT_FOUND',
        message: 'Procedimento x non trovato',
      }),
    ).toBe('Procedimento x non trovato');
  });

  it('labels: Italian for known codes, readable for unknown ones', () => {
    expect(stateLabel('IN_FORCE')).toBe('In vigore');
    expect(stateLabel('SOMETHING_NEW')).toBe('Something new');
    expect(eventLabel('convention.sign')).toBe('Firma la convenzione');
    expect(eventLabel('rtd.decree.sign')).toBe('Rtd decree sign');
    expect(enumLabel('SEDUTA_DESERTA')).toBe('Seduta deserta');
    expect(fieldLabel('date', 'convention.recesso.record')).toBe('Data della deliberazione');
    // an English message the console does not know is never shown as it is
    expect(translateValidation('something unexpected')).toBe('Valore non valido');
    // the API's plain words (libs/engine/src/validation.ts)
    expect(translateValidation('required')).toBe('Campo obbligatorio');
    expect(translateValidation('must not be empty')).toBe('Campo obbligatorio');
    expect(translateValidation('must be true or false')).toBe('Valore sì/no richiesto');
    expect(translateValidation('must be a date YYYY-MM-DD not after today in Rome')).toBe(
      'La data non può essere futura',
    );
    expect(translateValidation('must be shorter than or equal to 300 characters')).toBe(
      'Inserire al massimo 300 caratteri',
    );
  });
});
