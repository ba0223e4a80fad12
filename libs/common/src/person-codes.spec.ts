import { codiceFiscalePersonaCheckChar, isCodiceFiscalePersona } from './person-codes';

describe('codice fiscale of a person', () => {
  it('accepts well-formed codes with the right check character', () => {
    // the textbook example (Mario Rossi, born 10/12/1985 in Roma) and an omocodic variant (6 → S)
    expect(isCodiceFiscalePersona('RSSMRA85T10A562S')).toBe(true);
    expect(codiceFiscalePersonaCheckChar('RSSMRA85T10A562')).toBe('S');
    expect(
      isCodiceFiscalePersona(`RSSMRA85T10A5S2${codiceFiscalePersonaCheckChar('RSSMRA85T10A5S2')}`),
    ).toBe(true);
  });

  it('refuses a wrong check character, a bad pattern, lowercase and other lengths', () => {
    expect(isCodiceFiscalePersona('RSSMRA85T10A562T')).toBe(false);
    expect(isCodiceFiscalePersona('RSSMRA85Z10A562S')).toBe(false); // Z is not a month letter
    expect(isCodiceFiscalePersona('rssmra85t10a562s')).toBe(false);
    expect(isCodiceFiscalePersona('RSSMRA85T10A562')).toBe(false);
    expect(isCodiceFiscalePersona('01234567890')).toBe(false); // an ente's codice fiscale is not a person's
  });

  it('computes the check character over every position', () => {
    const base = 'BNCLRA70A41H501';
    const c = codiceFiscalePersonaCheckChar(base);
    expect(isCodiceFiscalePersona(base + c)).toBe(true);
    for (const other of 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.replace(c, ''))
      expect(isCodiceFiscalePersona(base + other)).toBe(false);
    expect(() => codiceFiscalePersonaCheckChar('SHORT')).toThrow(RangeError);
  });
});
