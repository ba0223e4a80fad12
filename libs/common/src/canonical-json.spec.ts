import { canonicalJson, canonicalJsonV1 } from './canonical-json';

/**
 * RFC 8785 (JCS) test vectors: the input/output files of the reference test suite published with the RFC
 * (arrays, french, structures, values, weird), and the number serialisation table of Appendix B (IEEE 754
 * bit patterns → expected text).
 */
describe('canonicalJson (RFC 8785)', () => {
  it.each([
    ['arrays', '[56,{"d":true,"10":null,"1":[]}]', '[56,{"1":[],"10":null,"d":true}]'],
    [
      'french',
      '{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}',
      '{"peach":"This sorting order","péché":"is wrong according to French","pêche":"but canonicalization MUST","sin":"ignore locale"}',
    ],
    [
      'structures',
      '{"1":{"f":{"f":"hi","F":5},"\\n":56.0},"10":{},"":"empty","a":{},"111":[{"e":"yes","E":"no"}],"A":{"b":"123"}}',
      '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{"b":"123"},"a":{}}',
    ],
    [
      'values',
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    ],
    [
      'weird',
      '{"\u20ac":"Euro Sign","1":"One","\u0080":"Control","\ud83d\ude02":"Smiley","\u00f6":"Latin Small Letter O With Diaeresis","\ufb33":"Hebrew Letter Dalet With Dagesh","</script>":"Browser Challenge"}',
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    ],
  ])('reference vector %s', (_name, input, expected) => {
    expect(canonicalJson(JSON.parse(input))).toBe(expected);
  });

  const fromBits = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0);
  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('Appendix B number %s → %s', (bits, expected) => {
    expect(canonicalJson(fromBits(bits))).toBe(expected);
  });

  it.each([
    ['NaN', 'fff8000000000000'],
    ['Infinity', '7ff0000000000000'],
  ])('refuses %s (Appendix B)', (_name, bits) => {
    expect(() => canonicalJson(fromBits(bits))).toThrow();
  });

  it('keeps a __proto__ key (as JSON.parse and jsonb give it: an own property), at any depth', () => {
    const parsed = JSON.parse('{"b":1,"__proto__":{"admin":true},"nested":{"__proto__":"x"}}');
    expect(canonicalJson(parsed)).toBe(
      '{"__proto__":{"admin":true},"b":1,"nested":{"__proto__":"x"}}',
    );
    // two payloads that differ only in __proto__ never canonicalise alike (they would hash alike)
    expect(canonicalJson(JSON.parse('{"a":1,"__proto__":2}'))).not.toBe(canonicalJson({ a: 1 }));
    // the old form (hash format 1) lost it: the reason format 2 exists
    expect(canonicalJsonV1(parsed)).toBe('{"b":1,"nested":{}}');
  });

  it('drops undefined members, writes Dates as ISO strings, and agrees with format 1 on plain data', () => {
    const v = {
      z: [1, 'two', null, true],
      a: { y: undefined, x: new Date('2026-03-01T10:00:00Z') },
    };
    expect(canonicalJson(v)).toBe('{"a":{"x":"2026-03-01T10:00:00.000Z"},"z":[1,"two",null,true]}');
    expect(canonicalJsonV1(v)).toBe(canonicalJson(v));
  });
});
