import {
  derivedCodiceIpaComune,
  isCodiceCatastale,
  isCodiceIpa,
  isCodiceIstatComune,
  isPec,
} from '@app/common';
import { POPULATION_REFERENCE, UNIONI_FIXTURES, type UnioneFixture } from './unioni.fixture';

function unione(key: UnioneFixture['key']): UnioneFixture {
  const u = UNIONI_FIXTURES.find((x) => x.key === key);
  if (!u) throw new Error(`missing fixture ${key}`);
  return u;
}

const sum = (ns: number[]): number => ns.reduce((a, b) => a + b, 0);

const allComuni = UNIONI_FIXTURES.flatMap((u) => u.comuni);

describe('UNIONI_FIXTURES (DOMAIN.md §6.1–6.4)', () => {
  it('has the four unions, once each', () => {
    expect(UNIONI_FIXTURES.map((u) => u.key).sort()).toEqual(
      ['bassa-reggiana', 'miracoli', 'valdera', 'valle-di-comino'].sort(),
    );
  });

  it('has the expected number of comuni per union', () => {
    const valdera = unione('valdera');
    expect(valdera.comuni).toHaveLength(8);
    expect(valdera.comuni.filter((c) => !c.joinedLater)).toHaveLength(7);
    expect(unione('valle-di-comino').comuni).toHaveLength(5);
    expect(unione('miracoli').comuni).toHaveLength(4);
    expect(unione('bassa-reggiana').comuni).toHaveLength(8);
  });

  it('marks only Chianni as joined later', () => {
    const later = allComuni.filter((c) => c.joinedLater);
    expect(later.map((c) => c.denominazione)).toEqual(['Chianni']);
    expect(unione('valdera').comuni.find((c) => c.joinedLater)?.codiceIstat).toBe('050012');
  });

  it('has at most one seat per union (Pontedera, Guastalla)', () => {
    for (const u of UNIONI_FIXTURES)
      expect(u.comuni.filter((c) => c.seat).length).toBeLessThanOrEqual(1);
    expect(unione('valdera').comuni.find((c) => c.seat)?.denominazione).toBe('Pontedera');
    expect(unione('bassa-reggiana').comuni.find((c) => c.seat)?.denominazione).toBe('Guastalla');
  });

  it('has the 2011 population sums of the document', () => {
    expect(POPULATION_REFERENCE).toMatch(/2011/);
    expect(
      sum(
        unione('valdera')
          .comuni.filter((c) => !c.joinedLater)
          .map((c) => c.popolazione),
      ),
    ).toBe(76435);
    expect(sum(unione('valle-di-comino').comuni.map((c) => c.popolazione))).toBe(7818);
    expect(sum(unione('bassa-reggiana').comuni.map((c) => c.popolazione))).toBe(71120);
    // §6.2: all 5 comuni are under 3,000; §6.3: only Casalbordino is above 5,000
    expect(unione('valle-di-comino').comuni.every((c) => c.popolazione < 3000)).toBe(true);
    expect(
      unione('miracoli')
        .comuni.filter((c) => c.popolazione > 5000)
        .map((c) => c.denominazione),
    ).toEqual(['Casalbordino']);
  });

  it('has populations that are positive integers', () => {
    for (const c of allComuni) {
      expect(Number.isInteger(c.popolazione)).toBe(true);
      expect(c.popolazione).toBeGreaterThan(0);
    }
  });

  it('has ISTAT codes in the province of the union', () => {
    const provinceCode: Record<string, string> = { PI: '050', FR: '060', CH: '069', RE: '035' };
    for (const u of UNIONI_FIXTURES) {
      const prefix = provinceCode[u.provincia];
      expect(prefix).toBeDefined();
      for (const c of u.comuni) expect(c.codiceIstat.slice(0, 3)).toBe(prefix);
    }
  });

  describe.each(allComuni.map((c) => [c.denominazione, c] as const))('comune %s', (_name, c) => {
    it('has valid ISTAT, Belfiore, IPA and PEC', () => {
      expect(isCodiceIstatComune(c.codiceIstat)).toBe(true);
      expect(isCodiceCatastale(c.codiceCatastale)).toBe(true);
      expect(isCodiceIpa(c.codiceIpa)).toBe(true);
      expect(isPec(c.pec)).toBe(true);
    });
    it('has the derived codice IPA c_ + lowercase Belfiore', () => {
      expect(c.codiceIpa).toBe(derivedCodiceIpaComune(c.codiceCatastale));
    });
  });

  it.each(UNIONI_FIXTURES.map((u) => [u.key, u] as const))(
    'union %s has a valid IPA code and PEC',
    (_key, u) => {
      expect(isCodiceIpa(u.codiceIpa)).toBe(true);
      expect(u.codiceIpa.startsWith('c_')).toBe(false); // c_ is the comuni convention
      expect(isPec(u.pec)).toBe(true);
    },
  );

  it('uses only .invalid PEC domains', () => {
    const pecs = [...UNIONI_FIXTURES.map((u) => u.pec), ...allComuni.map((c) => c.pec)];
    expect(pecs).toHaveLength(UNIONI_FIXTURES.length + allComuni.length);
    for (const pec of pecs) expect(pec.endsWith('.invalid')).toBe(true);
  });

  it('has no duplicate codes across all unions', () => {
    const dupes = (xs: string[]): string[] => xs.filter((x, i) => xs.indexOf(x) !== i);
    expect(dupes(allComuni.map((c) => c.codiceIstat))).toEqual([]);
    expect(dupes(allComuni.map((c) => c.codiceCatastale))).toEqual([]);
    expect(dupes(allComuni.map((c) => c.denominazione))).toEqual([]);
    expect(
      dupes([...UNIONI_FIXTURES.map((u) => u.codiceIpa), ...allComuni.map((c) => c.codiceIpa)]),
    ).toEqual([]);
    expect(dupes([...UNIONI_FIXTURES.map((u) => u.pec), ...allComuni.map((c) => c.pec)])).toEqual(
      [],
    );
  });
});
