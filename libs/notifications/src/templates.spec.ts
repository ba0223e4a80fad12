import ICAL from 'ical.js';
import { renderNotice, type NoticeInput } from './templates';

const base: Omit<NoticeInput, 'kind' | 'data'> = {
  recipient: { codiceIpa: 'c_g254', denominazione: 'Palaia', kind: 'COMUNE' },
  roles: ['consiglio', 'segretario'],
  unione: 'Unione Valdera',
  processUrl: 'https://iter.example.invalid/processi/p1',
  notificationId: 'n1',
  uidDomain: 'iter.example.invalid',
};

describe('Italian templates', () => {
  it('the text transmitted to a council: deadline the Italian way, what and where, legal reference, .ics', () => {
    const n = renderNotice({
      ...base,
      kind: 'convention.sent',
      data: {
        title: 'ICT',
        textVersion: 2,
        textHash: 'ab12',
        deadline: '2026-04-07',
        instanceId: 'p1',
      },
    });
    expect(n.subject).toBe(
      'Trasmissione dello schema di convenzione «ICT» — deliberare entro martedì 7 aprile 2026',
    );
    expect(n.text).toContain('Alla c.a. di: Consiglio comunale e Segretario comunale di Palaia');
    expect(n.text).toContain('Testo: versione 2, impronta SHA-256 ab12.');
    expect(n.text).toContain('Cosa fare: sottoporre lo schema al Consiglio comunale');
    expect(n.text).toContain('Dove: https://iter.example.invalid/processi/p1');
    expect(n.text).toContain('art. 30 del D.Lgs. 18 agosto 2000, n. 267 (TUEL)');
    const ev = new ICAL.Component(ICAL.parse(n.ics!)).getFirstSubcomponent('vevent')!;
    expect((ev.getFirstPropertyValue('dtstart') as ICAL.Time).toString()).toBe('2026-04-07');
    expect(ev.getFirstPropertyValue('uid')).toBe('p1-c_g254-2026-04-07@iter.example.invalid');
  });

  it('a notice without a deadline has no calendar file', () => {
    const n = renderNotice({
      ...base,
      kind: 'convention.in-force',
      data: { title: 'ICT', from: '2026-05-01' },
    });
    expect(n.ics).toBeNull();
    expect(n.text).toContain('in vigore dal venerdì 1 maggio 2026');
  });

  it('the RTD decree names the person, never the codice fiscale', () => {
    const n = renderNotice({
      ...base,
      roles: ['appointee'],
      recipient: { codiceIpa: 'u_valdera', denominazione: 'Unione Valdera', kind: 'UNIONE' },
      kind: 'rtd.decree-issued',
      data: {
        title: 'RTD Valdera',
        appointee: { name: 'Maria Rossi', codiceFiscale: 'RSSMRA80A41G843X', pec: 'm@pec.invalid' },
        act: { type: 'DECRETO', number: '3', date: '2026-06-01' },
        startDate: '2026-06-15',
      },
    });
    expect(n.text).toContain(
      'con decreto del Presidente dell’Unione n. 3 del lunedì 1 giugno 2026 Maria Rossi è nominato/a',
    );
    expect(n.text).not.toContain('RSSMRA80A41G843X');
    expect(n.text).not.toContain('m@pec.invalid');
  });

  it('the RTD act is named by its type: decreto, deliberazione di Giunta, determinazione', () => {
    for (const [type, words] of [
      ['DECRETO', 'con decreto del Presidente dell’Unione n. 3 del'],
      ['DELIBERA_GIUNTA', 'con deliberazione della Giunta dell’Unione n. 3 del'],
      ['DETERMINA', 'con determinazione n. 3 del'],
    ] as const) {
      const n = renderNotice({
        ...base,
        roles: ['appointee'],
        kind: 'rtd.decree-issued',
        data: {
          title: 'RTD Valdera',
          appointee: { name: 'Maria Rossi' },
          act: { type, number: '3', date: '2026-06-01' },
        },
      });
      expect(n.text).toContain(words);
    }
  });

  it('an unknown kind gets a generic Italian notice, with a calendar file when it carries a deadline', () => {
    const n = renderNotice({
      ...base,
      kind: 'altro.avviso',
      data: { title: 'X', deadline: '2026-10-05' },
    });
    expect(n.subject).toBe('Comunicazione del procedimento «X» (altro.avviso)');
    expect(n.text).toContain('provvedere entro lunedì 5 ottobre 2026');
    expect(n.ics).toContain('DTSTART;VALUE=DATE:20261005');
  });
  describe('RTD deadline notices say what is due and by when, in Italian (no machine keys, no enum codes)', () => {
    const seg = {
      ...base,
      roles: ['segretario'],
      recipient: { codiceIpa: 'c_g254', denominazione: 'Palaia', kind: 'COMUNE' },
    };
    it('a reminder of the IPA term names the ente, the date, and carries the .ics', () => {
      const n = renderNotice({
        ...seg,
        kind: 'rtd.reminder',
        data: {
          title: 'RTD Valdera',
          key: 'ipa:c_g254',
          enteName: 'Palaia',
          daysBefore: 2,
          deadline: '2026-12-16',
          instanceId: 'p1',
        },
      });
      expect(n.subject).toBe(
        'Promemoria RTD: «RTD Valdera» — registrazione del RTD su IPA per Palaia entro mercoledì 16 dicembre 2026',
      );
      expect(n.text).not.toContain('ipa:c_g254');
      expect(n.text).toContain(
        'Cosa fare: registrare l’RTD su IPA per Palaia e confermarlo in Iter entro mercoledì 16 dicembre 2026.',
      );
      expect(n.deadline).toBe('2026-12-16');
      expect(n.ics).toContain('DTSTART;VALUE=DATE:20261216');
    });
    it('a reminder of the decree term', () => {
      const n = renderNotice({
        ...base,
        kind: 'rtd.reminder',
        data: { title: 'RTD Valdera', key: 'decree', daysBefore: 2, deadline: '2026-12-31' },
      });
      expect(n.subject).toBe(
        'Promemoria RTD: «RTD Valdera» — decreto di nomina del RTD entro giovedì 31 dicembre 2026',
      );
      expect(n.text).not.toMatch(/\(decree\)/);
    });
    it('an expired term names what was due and the date it was due', () => {
      const n = renderNotice({
        ...base,
        kind: 'rtd.deadline-expired',
        data: { title: 'RTD Valdera', key: 'acceptance', deadline: '2026-12-11' },
      });
      expect(n.subject).toBe(
        'Termine scaduto nel procedimento RTD: «RTD Valdera» — accettazione dell’incarico',
      );
      expect(n.text).toContain(
        'il termine per l’accettazione dell’incarico da parte del RTD nominato è scaduto venerdì 11 dicembre 2026',
      );
      expect(n.text).not.toContain('(acceptance)');
      expect(n.ics).toBeNull();
    });
    it('a vacancy says why in words, not with the internal code', () => {
      for (const [reason, words] of [
        ['AVVIO', 'avvio della gestione associata'],
        ['REVOCA', 'revoca'],
        ['DIMISSIONI', 'dimissioni'],
        ['RINUNCIA', 'rinuncia'],
        ['FINE_INCARICO', 'fine dell’incarico dirigenziale o EQ sottostante'],
        ['SCADENZA', 'scadenza del termine della nomina'],
      ] as const) {
        const n = renderNotice({
          ...base,
          kind: 'rtd.vacancy',
          data: { title: 'RTD', since: '2026-12-01', reason, decreeBy: '2026-12-31' },
        });
        expect(n.text).toContain(`Motivo: ${words}`);
        expect(n.text).not.toContain(`Motivo: ${reason}.`);
      }
    });
  });
});
