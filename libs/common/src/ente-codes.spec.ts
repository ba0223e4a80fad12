import {
  codiceFiscaleCheckDigit,
  derivedCodiceIpaComune,
  isCodiceCatastale,
  isCodiceFiscaleEnte,
  isCodiceIpa,
  isCodiceIstatComune,
  isPec,
} from './ente-codes';

describe('ente-codes', () => {
  describe('isCodiceIstatComune', () => {
    it.each(['050029', '060004', '035024', '000000'])('accepts %s', (s) => {
      expect(isCodiceIstatComune(s)).toBe(true);
    });
    it.each(['50029', '0500290', '05002A', ' 050029', '050029 ', '', '05-029', '０５００２９'])(
      'refuses %p',
      (s) => {
        expect(isCodiceIstatComune(s)).toBe(false);
      },
    );
  });

  describe('isCodiceCatastale', () => {
    it.each(['G843', 'A864', 'M327', 'H501'])('accepts %s', (s) => {
      expect(isCodiceCatastale(s)).toBe(true);
    });
    it.each(['g843', 'G84', 'G8433', 'GG43', '8431', '', 'G843 ', 'È843'])('refuses %p', (s) => {
      expect(isCodiceCatastale(s)).toBe(false);
    });
  });

  describe('codiceFiscaleCheckDigit', () => {
    // values computed by hand with the rule of DOMAIN.md §5
    it.each([
      ['0000000000', 0],
      ['0123456789', 7], // odd 0+2+4+6+8=20, even 2+6+1+5+9=23 → 43 → 7
      ['1234567890', 3], // odd 1+3+5+7+9=25, even 4+8+3+7+0=22 → 47 → 3
      ['9999999999', 0], // odd 45, even 5×9=45 → 90 → 0
      ['8000000000', 2],
      ['0000000001', 8], // even position 10: 1 doubled = 2 → 8
    ])('%s → %d', (first10, check) => {
      expect(codiceFiscaleCheckDigit(first10)).toBe(check);
    });
    it.each(['', '012345678', '01234567890', '01234a6789'])('throws on %p', (s) => {
      expect(() => codiceFiscaleCheckDigit(s)).toThrow(RangeError);
    });
  });

  describe('isCodiceFiscaleEnte', () => {
    it.each([
      '00000000000',
      '01234567897',
      '12345678903',
      '99999999990',
      '80000000002',
      '00000000018',
    ])('accepts %s', (s) => {
      expect(isCodiceFiscaleEnte(s)).toBe(true);
    });
    it.each([
      '01234567890', // wrong check digit (should be 7)
      '12345678904', // wrong check digit (should be 3)
      '00000000001',
      '0123456789', // 10 digits
      '012345678977', // 12 digits
      '0123456789A',
      'ABCDEFGHIJK',
      '',
      ' 01234567897',
    ])('refuses %p', (s) => {
      expect(isCodiceFiscaleEnte(s)).toBe(false);
    });
    it('every single-digit change of a valid code is refused', () => {
      const valid = '01234567897';
      for (let i = 0; i < 11; i++) {
        for (let d = 0; d <= 9; d++) {
          const changed = valid.slice(0, i) + String(d) + valid.slice(i + 1);
          if (changed !== valid) expect(isCodiceFiscaleEnte(changed)).toBe(false);
        }
      }
    });
  });

  describe('isCodiceIpa', () => {
    it.each(['c_g843', 'c_h501', 'uvaldera', 'u_valdera', 'ab', 'a'.repeat(20), 'ente_2024'])(
      'accepts %s',
      (s) => {
        expect(isCodiceIpa(s)).toBe(true);
      },
    );
    it.each(['C_G843', 'c-g843', 'c g843', 'a', 'a'.repeat(21), '', 'c_g843.', 'città'])(
      'refuses %p',
      (s) => {
        expect(isCodiceIpa(s)).toBe(false);
      },
    );
  });

  describe('derivedCodiceIpaComune', () => {
    it('is c_ + lowercase Belfiore', () => {
      expect(derivedCodiceIpaComune('G843')).toBe('c_g843');
      expect(derivedCodiceIpaComune('H501')).toBe('c_h501');
      expect(isCodiceIpa(derivedCodiceIpaComune('M327'))).toBe(true);
    });
    it.each(['g843', 'G84', ''])('throws on an invalid Belfiore %p', (s) => {
      expect(() => derivedCodiceIpaComune(s)).toThrow(RangeError);
    });
  });

  describe('isPec', () => {
    it.each([
      'protocollo@pec.comune-pontedera.invalid',
      'comune.pontedera@postacert.toscana.it',
      'a@b.it',
      'first.last+tag@sub.example.org',
    ])('accepts %s', (s) => {
      expect(isPec(s)).toBe(true);
    });
    it.each([
      '',
      'protocollo',
      'protocollo@',
      '@pec.comune.invalid',
      'protocollo@localhost',
      'proto collo@pec.comune.invalid',
      'protocollo@@pec.comune.invalid',
      'protocollo@pec..comune.invalid',
      '.protocollo@pec.comune.invalid',
      'proto..collo@pec.comune.invalid',
      'protocollo@-pec.comune.invalid',
      'protocollo@pec-.comune.invalid',
      'protocollo@pec.comune.it.',
      'protocollo@pec.comune.1t',
      `${'a'.repeat(65)}@pec.comune.invalid`,
      `a@${'b'.repeat(250)}.it`,
    ])('refuses %p', (s) => {
      expect(isPec(s)).toBe(false);
    });
  });
});
