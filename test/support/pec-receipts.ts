import MailComposer from 'nodemailer/lib/mail-composer';

export type Kind = 'accettazione' | 'avvenuta-consegna' | 'errore-consegna';

export interface ReceiptSpec {
  kind: Kind;
  /** the Message-ID of the message sent by Iter (with angle brackets) */
  msgid: string;
  /** the provider's identifier of this receipt */
  identificativo: string;
  /** dd/mm/yyyy and hh:mm:ss in the zone (+0100 in winter) */
  giorno: string;
  ora: string;
  zona?: string;
  mittente: string;
  destinatario: string;
  oggetto: string;
  /** for errore-consegna: `no-dest`, `no-dominio`, `virus`, `altro` */
  errore?: string;
  erroreEsteso?: string;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** daticert.xml as the PEC providers write it (DM 2/11/2005, allegato tecnico, Postacert.dtd) */
export function daticertXml(r: ReceiptSpec): string {
  const consegna =
    r.kind === 'accettazione' ? '' : `\n    <consegna>${esc(r.destinatario)}</consegna>`;
  const ricevuta = r.kind === 'avvenuta-consegna' ? '\n    <ricevuta tipo="completa" />' : '';
  const errore = r.erroreEsteso
    ? `\n    <errore-esteso>${esc(r.erroreEsteso)}</errore-esteso>`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE postacert SYSTEM "Postacert.dtd">
<postacert tipo="${r.kind}" errore="${r.errore ?? 'nessuno'}">
  <intestazione>
    <mittente>${esc(r.mittente)}</mittente>
    <destinatari tipo="certificato">${esc(r.destinatario)}</destinatari>
    <risposte>${esc(r.mittente)}</risposte>
    <oggetto>${esc(r.oggetto)}</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Gestore PEC di prova S.p.A.</gestore-emittente>
    <data zona="${r.zona ?? '+0100'}">
      <giorno>${r.giorno}</giorno>
      <ora>${r.ora}</ora>
    </data>
    <identificativo>${esc(r.identificativo)}</identificativo>
    <msgid>${esc(r.msgid)}</msgid>${ricevuta}${consegna}${errore}
  </dati>
</postacert>
`;
}

const SUBJECT: Record<Kind, string> = {
  accettazione: 'ACCETTAZIONE',
  'avvenuta-consegna': 'CONSEGNA',
  'errore-consegna': 'AVVISO DI MANCATA CONSEGNA',
};

const BODY: Record<Kind, (r: ReceiptSpec) => string> = {
  accettazione: (r) =>
    `Ricevuta di accettazione\n\nIl giorno ${r.giorno} alle ore ${r.ora} (${r.zona ?? '+0100'}) il messaggio\n"${r.oggetto}" proveniente da "${r.mittente}"\ned indirizzato a:\n${r.destinatario} ("posta certificata")\nè stato accettato dal sistema ed inoltrato.\nIdentificativo messaggio: ${r.identificativo}\n`,
  'avvenuta-consegna': (r) =>
    `Ricevuta di avvenuta consegna\n\nIl giorno ${r.giorno} alle ore ${r.ora} (${r.zona ?? '+0100'}) il messaggio\n"${r.oggetto}" proveniente da "${r.mittente}"\ned indirizzato a "${r.destinatario}"\nè stato consegnato nella casella di destinazione.\nIdentificativo messaggio: ${r.identificativo}\n`,
  'errore-consegna': (r) =>
    `Avviso di mancata consegna\n\nIl giorno ${r.giorno} alle ore ${r.ora} (${r.zona ?? '+0100'}) nel messaggio\n"${r.oggetto}" proveniente da "${r.mittente}"\ned indirizzato a "${r.destinatario}"\nè stato rilevato un problema che ne impedisce la consegna (${r.erroreEsteso ?? r.errore ?? 'errore'}).\nIdentificativo messaggio: ${r.identificativo}\n`,
};

/** A PEC receipt as a provider sends it to the sender's box: headers, text, daticert.xml (+ the original for a consegna). */
export async function pecReceipt(r: ReceiptSpec, original?: Buffer): Promise<Buffer> {
  const attachments: { filename: string; content: string | Buffer; contentType: string }[] = [
    { filename: 'daticert.xml', content: daticertXml(r), contentType: 'application/xml' },
  ];
  if (r.kind === 'avvenuta-consegna' && original)
    attachments.push({
      filename: 'postacert.eml',
      content: original,
      contentType: 'message/rfc822',
    });
  return new MailComposer({
    from: `"Per conto di: ${r.mittente}" <posta-certificata@pec.gestore.invalid>`,
    to: r.mittente,
    subject: `${SUBJECT[r.kind]}: ${r.oggetto}`,
    messageId: `<${r.identificativo}>`,
    date: new Date(),
    headers: {
      'X-Ricevuta': r.kind,
      'X-Riferimento-Message-ID': r.msgid,
      'X-Trasporto': 'posta-certificata',
      'X-VerificaSicurezza': 'normale',
      ...(r.kind === 'avvenuta-consegna' ? { 'X-TipoRicevuta': 'completa' } : {}),
    },
    text: BODY[r.kind](r),
    attachments,
  })
    .compile()
    .build();
}
