import { DaticertError, parseDaticert } from './daticert';

const xml = (
  tipo: string,
  extra = '',
  data = '<giorno>09/02/2026</giorno><ora>09:12:00</ora>',
) => `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE postacert SYSTEM "Postacert.dtd">
<postacert tipo="${tipo}" errore="nessuno">
  <intestazione><mittente>a@pec.invalid</mittente><destinatari tipo="certificato">b@pec.invalid</destinatari>
  <risposte>a@pec.invalid</risposte><oggetto>Oggetto</oggetto></intestazione>
  <dati>
    <gestore-emittente>Gestore</gestore-emittente>
    <data zona="+0100">${data}</data>
    <identificativo>opec1.20260209091200.1@pec.gestore.invalid</identificativo>
    <msgid>&lt;4f1c@iter.local&gt;</msgid>${extra}
  </dati>
</postacert>`;

describe('daticert.xml', () => {
  it('an avvenuta consegna: kind, the Message-ID it is about, the certified instant in UTC', () => {
    expect(parseDaticert(xml('avvenuta-consegna', '<consegna>b@pec.invalid</consegna>'))).toEqual({
      kind: 'avvenuta-consegna',
      error: 'nessuno',
      msgid: '<4f1c@iter.local>',
      identificativo: 'opec1.20260209091200.1@pec.gestore.invalid',
      at: '2026-02-09T08:12:00.000Z',
      gestore: 'Gestore',
      consegna: 'b@pec.invalid',
      errorDetail: null,
    });
  });

  it('summer time: the zone attribute is honoured', () => {
    const d = parseDaticert(
      xml('accettazione', '', '<giorno>15/06/2026</giorno><ora>10:00:00</ora>').replace(
        '+0100',
        '+0200',
      ),
    );
    expect(d.at).toBe('2026-06-15T08:00:00.000Z');
  });

  it('malformed, unknown kind or incomplete: a DaticertError with a stable reason', () => {
    const reason = (s: string) => {
      try {
        parseDaticert(s);
        return 'parsed';
      } catch (e) {
        return e instanceof DaticertError ? e.reason : 'other';
      }
    };
    expect(reason('<postacert tipo="avvenuta-consegna"><dati>')).toBe('MALFORMED_DATICERT');
    expect(reason('<altro/>')).toBe('MALFORMED_DATICERT');
    expect(reason(xml('consegnata-forse'))).toBe('UNKNOWN_RECEIPT_KIND');
    expect(
      reason(xml('avvenuta-consegna', '', '<giorno>31/02/2026</giorno><ora>09:00:00</ora>')),
    ).toBe('INCOMPLETE_DATICERT');
    expect(reason(xml('avvenuta-consegna', '', ''))).toBe('INCOMPLETE_DATICERT');
  });
});
