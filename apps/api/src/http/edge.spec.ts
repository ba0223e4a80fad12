import { ValidationFailedError } from '@app/common';
import { ApiError } from './api-error';
import { hasBadCharacters, inspectValue, scanJson } from './edge';

const scan =
  (text: string, depth = 4, keys = 5) =>
  () =>
    scanJson(Buffer.from(text, 'utf8'), depth, keys);
const codeOf = (fn: () => void): string | null => {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof ApiError ? err.code : String(err);
  }
};

describe('scanJson: depth and keys from the raw bytes', () => {
  it('counts nesting of objects and arrays', () => {
    expect(codeOf(scan('{"a":{"b":[[1]]}}'))).toBeNull(); // depth 4
    expect(codeOf(scan('{"a":{"b":[[[1]]]}}'))).toBe('JSON_TOO_DEEP');
    expect(codeOf(scan('['.repeat(5000)))).toBe('JSON_TOO_DEEP');
  });

  it('counts keys and array items together', () => {
    expect(codeOf(scan('{"a":1,"b":2,"c":3,"d":4,"e":5}'))).toBeNull();
    expect(codeOf(scan('{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}'))).toBe('JSON_TOO_MANY_KEYS');
    expect(codeOf(scan('[1,2,3,4,5]'))).toBeNull();
    expect(codeOf(scan('[1,2,3,4,5,6]'))).toBe('JSON_TOO_MANY_KEYS');
    expect(codeOf(scan('{"a":[1,2],"b":[3,4]}', 4, 5))).toBe('JSON_TOO_MANY_KEYS'); // 2 keys + 4 items
  });

  it('ignores structure inside strings, escaped quotes included', () => {
    expect(codeOf(scan('{"a":"{{{{{[[[[[:,:,:,:,:,:"}'))).toBeNull();
    expect(codeOf(scan('{"a":"x\\"{{{{{{:::::::"}'))).toBeNull();
    expect(codeOf(scan('{"a\\\\":"{{{{{{"}'))).toBeNull();
    expect(codeOf(scan('{"città":"è già {{{{{{"}'))).toBeNull(); // multi-byte UTF-8 is never structural
  });
});

describe('inspectValue: prototype keys and bad characters', () => {
  it('reports prototype keys anywhere as unknown fields, with their path', () => {
    const body = JSON.parse('{"a":[{"b":{"__proto__":1}}],"constructor":2}') as unknown;
    try {
      inspectValue(body, '');
      throw new Error('not refused');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect((err as ValidationFailedError).fields.map((f) => f.field)).toEqual([
        'a[0].b.__proto__',
        'constructor',
      ]);
    }
  });

  it('refuses NUL and lone surrogates in keys and values, accepts well-formed pairs', () => {
    expect(hasBadCharacters('a\u0000')).toBe(true);
    expect(hasBadCharacters('\ud800')).toBe(true);
    expect(hasBadCharacters('x\udc00')).toBe(true);
    expect(hasBadCharacters('\udc00\ud800')).toBe(true);
    expect(hasBadCharacters('😀 è')).toBe(false);
    expect(codeOf(() => inspectValue({ ['k\u0000']: 1 }, ''))).toBe('INVALID_CHARACTERS');
    expect(codeOf(() => inspectValue({ a: ['ok', '\ud83d'] }, ''))).toBe('INVALID_CHARACTERS');
    expect(codeOf(() => inspectValue({ a: ['ok', '😀'] }, ''))).toBeNull();
  });

  it('reports numbers JSON.parse turned into Infinity, with their path', () => {
    const body = JSON.parse('{"a":{"days":1e400},"b":[-1e400],"c":1e308}') as unknown;
    try {
      inspectValue(body, '');
      throw new Error('not refused');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect((err as ValidationFailedError).fields).toEqual([
        { field: 'a.days', errors: ['must be a finite number'] },
        { field: 'b[0]', errors: ['must be a finite number'] },
      ]);
    }
  });

  it('reports strings of whitespace only, not empty or padded ones', () => {
    try {
      inspectValue({ a: '  ', b: ['x', '\t\n'], c: '', d: ' x ', e: '\u00a0' }, '');
      throw new Error('not refused');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationFailedError);
      expect((err as ValidationFailedError).fields.map((f) => f.field)).toEqual(['a', 'b[1]', 'e']);
    }
  });
});
