import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DateTime } from 'luxon';

/** The kinds of PEC receipt and notice (DPR 68/2005; DM 2 novembre 2005, allegato "regole tecniche"). */
export const RECEIPT_KINDS = [
  'accettazione',
  'non-accettazione',
  'presa-in-carico',
  'avvenuta-consegna',
  'errore-consegna',
  'preavviso-errore-consegna',
  'rilevazione-virus',
] as const;
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];

/** kinds that mean the message did not reach the recipient's box */
export const NON_DELIVERY: readonly ReceiptKind[] = [
  'non-accettazione',
  'errore-consegna',
  'preavviso-errore-consegna',
  'rilevazione-virus',
];

export interface Daticert {
  kind: ReceiptKind;
  /** `errore` attribute: `nessuno`, `no-dest`, `no-dominio`, `virus`, `altro` */
  error: string;
  /** the Message-ID of the message the receipt is about, with angle brackets */
  msgid: string;
  /** the provider's identifier of the receipt */
  identificativo: string | null;
  /** the instant the provider certifies (acceptance or delivery) */
  at: string;
  gestore: string | null;
  /** the recipient box the receipt is about (consegna), if any */
  consegna: string | null;
  errorDetail: string | null;
}

export class DaticertError extends Error {
  constructor(
    readonly reason: 'MALFORMED_DATICERT' | 'UNKNOWN_RECEIPT_KIND' | 'INCOMPLETE_DATICERT',
    message: string,
  ) {
    super(message);
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  processEntities: true,
  parseTagValue: false,
  trimValues: true,
  // no DOCTYPE entities are expanded beyond the XML built-ins: a receipt is data, not a document
});

const text = (v: unknown): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && '#text' in v) return String(v['#text']);
  return null;
};

/** Parse a daticert.xml; throws DaticertError with a stable reason when it is malformed or incomplete. */
export function parseDaticert(xml: string): Daticert {
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    throw new DaticertError('MALFORMED_DATICERT', `XML non valido: ${valid.err.msg}`);
  const doc = parser.parse(xml) as { postacert?: Record<string, unknown> };
  const pc = doc.postacert;
  if (!pc || typeof pc !== 'object')
    throw new DaticertError('MALFORMED_DATICERT', 'manca <postacert>');
  const kind = text(pc['@tipo']) ?? '';
  if (!(RECEIPT_KINDS as readonly string[]).includes(kind))
    throw new DaticertError('UNKNOWN_RECEIPT_KIND', `tipo di ricevuta sconosciuto: "${kind}"`);
  const dati = (pc['dati'] ?? {}) as Record<string, unknown>;
  const msgidRaw = text(dati['msgid']);
  const data = (dati['data'] ?? {}) as Record<string, unknown>;
  const giorno = text(data['giorno']);
  const ora = text(data['ora']);
  const zona = text(data['@zona']) ?? '+0100';
  if (!msgidRaw || !giorno || !ora)
    throw new DaticertError('INCOMPLETE_DATICERT', 'mancano msgid o data (giorno, ora)');
  const when = DateTime.fromFormat(`${giorno} ${ora} ${zona}`, 'dd/MM/yyyy HH:mm:ss ZZZ', {
    setZone: true,
  });
  if (!when.isValid)
    throw new DaticertError('INCOMPLETE_DATICERT', `data non valida: ${giorno} ${ora} ${zona}`);
  const msgid = msgidRaw.trim();
  return {
    kind: kind as ReceiptKind,
    error: text(pc['@errore']) ?? 'nessuno',
    msgid: msgid.startsWith('<') ? msgid : `<${msgid}>`,
    identificativo: text(dati['identificativo']),
    at: when.toUTC().toISO(),
    gestore: text(dati['gestore-emittente']),
    consegna: text(dati['consegna']),
    errorDetail: text(dati['errore-esteso']),
  };
}
