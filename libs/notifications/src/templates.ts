import { deadlineIcs } from './ics';
import { addressee, entro, italianDate, italianInstant } from './italian';

/** What a template receives: the outbox row's payload and the resolved recipient. */
export interface NoticeInput {
  kind: string;
  /** the notify effect's data + instanceId, businessKey, roles */
  data: Record<string, unknown>;
  recipient: { codiceIpa: string; denominazione: string; kind: string };
  roles: readonly string[];
  /** the Unione (tenant) name */
  unione: string;
  /** where to act: the process page */
  processUrl: string;
  /** stable id of the notification (outbox row): the .ics UID derives from the process and the deadline */
  notificationId: string;
  uidDomain: string;
}

export interface RenderedNotice {
  subject: string;
  text: string;
  /** the due date (YYYY-MM-DD) the notice carries, if any */
  deadline: string | null;
  /** the .ics attachment when the notice carries a deadline */
  ics: string | null;
}

interface Parts {
  subject: string;
  body: string[];
  /** what to do (and by when) */
  todo?: string;
  legal: string;
  deadline?: string | null;
  /** title of the calendar event */
  eventTitle?: string;
}

const s = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
const dateOrEmpty = (v: unknown): string | null =>
  typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : null;

const TUEL30 = 'art. 30 del D.Lgs. 18 agosto 2000, n. 267 (TUEL)';
const TERM =
  'il termine decorre dalla ricevuta di avvenuta consegna della PEC (art. 45, c. 2, D.Lgs. 82/2005 - CAD; DPR 68/2005); ' +
  'se scade in un giorno festivo è prorogato al primo giorno non festivo seguente (art. 155 c.p.c.)';

function textRef(d: Record<string, unknown>): string {
  const v = s(d['textVersion']);
  const h = s(d['textHash']);
  if (!v && !h) return '';
  return `Testo: versione ${v || '—'}${h ? `, impronta SHA-256 ${h}` : ''}.`;
}

/** the act that appoints the RTD (DOMAIN.md §3.3: AttoNomina DECRETO | DELIBERA_GIUNTA | DETERMINA) */
const RTD_ACT_TYPES: Record<string, string> = {
  DECRETO: 'decreto del Presidente dell’Unione',
  DELIBERA_GIUNTA: 'deliberazione della Giunta dell’Unione',
  DETERMINA: 'determinazione',
};

/** why the RTD office is vacant (the machine's EndReason, or AVVIO for the first appointment), in words */
const RTD_VACANCY_REASONS: Record<string, string> = {
  AVVIO: 'avvio della gestione associata (convenzione in vigore, nessun RTD ancora nominato)',
  REVOCA: 'revoca dell’RTD con decreto motivato',
  DIMISSIONI: 'dimissioni dell’RTD',
  RINUNCIA: 'rinuncia del nominato all’incarico',
  FINE_INCARICO: 'fine dell’incarico dirigenziale o EQ sottostante',
  SCADENZA: 'scadenza del termine della nomina',
  SOSTITUZIONE: 'sostituzione dell’RTD',
  FINE_CONVENZIONE: 'fine della convenzione',
};

/**
 * What an RTD term (the timer key the machine names: decree, acceptance, publication, ipa:<ente>) asks for:
 * `short` for subjects, `what` for the sentence, `todo` for "Cosa fare".
 */
function rtdTerm(d: Record<string, unknown>): { short: string; what: string; todo: string } {
  const key = s(d['key']);
  const ente = s(d['enteName']) || (key.startsWith('ipa:') ? key.slice(4) : '');
  if (key === 'decree')
    return {
      short: 'decreto di nomina del RTD',
      what: 'il decreto di nomina del RTD',
      todo: 'il Presidente dell’Unione adotta il decreto di nomina del RTD',
    };
  if (key === 'acceptance')
    return {
      short: 'accettazione dell’incarico',
      what: 'l’accettazione dell’incarico da parte del RTD nominato',
      todo: 'il RTD nominato comunica l’accettazione e rende le dichiarazioni (D.Lgs. 39/2013)',
    };
  if (key === 'publication')
    return {
      short: 'pubblicazione del decreto',
      what: 'la pubblicazione del decreto all’albo pretorio e in Amministrazione Trasparente',
      todo: 'pubblicare il decreto all’albo pretorio e in Amministrazione Trasparente',
    };
  if (key.startsWith('ipa:'))
    return {
      short: `registrazione del RTD su IPA${ente ? ` per ${ente}` : ''}`,
      what: `la registrazione (o la verifica) del RTD su IPA${ente ? ` per ${ente}` : ''}`,
      todo: `registrare l’RTD su IPA${ente ? ` per ${ente}` : ''} e confermarlo in Iter`,
    };
  return {
    short: 'termine del procedimento',
    what: 'un termine del procedimento',
    todo: 'provvedere',
  };
}

const OUTCOMES: Record<string, string> = {
  APPROVED: 'approvata',
  APPROVED_WITH_AMENDMENTS: 'approvata con emendamenti',
  REJECTED: 'respinta',
  RINVIATA: 'rinviata',
  SEDUTA_DESERTA: 'seduta deserta',
};

type Template = (d: Record<string, unknown>, i: NoticeInput) => Parts;

export const TEMPLATES: Readonly<Record<string, Template>> = {
  'convention.sent': (d) => ({
    subject: `Trasmissione dello schema di convenzione «${s(d['title'])}» — deliberare ${entro(s(d['deadline']))}`,
    body: [
      `si trasmette lo schema di convenzione «${s(d['title'])}» approvato per l’invio ai consigli degli enti partecipanti.`,
      textRef(d),
    ],
    todo:
      `sottoporre lo schema al Consiglio comunale e registrare la deliberazione (numero, data, esito, pareri, ` +
      `eventuale immediata eseguibilità) ${entro(s(d['deadline']))}. Il testo approvato deve essere identico ` +
      `(stessa impronta): un emendamento apre una nuova versione che tutti i consigli riapprovano.`,
    legal: `${TUEL30}; art. 42, c. 2, lett. c) TUEL (competenza del Consiglio); ${TERM}.`,
    deadline: dateOrEmpty(d['deadline']),
    eventTitle: `Deliberare sulla convenzione «${s(d['title'])}»`,
  }),
  'convention.reminder': (d) => ({
    subject: `Sollecito: convenzione «${s(d['title'])}» — deliberare ${entro(s(d['deadline']))}`,
    body: [
      `risulta ancora da registrare la deliberazione del Consiglio sulla convenzione «${s(d['title'])}»` +
        (d['daysBefore'] !== undefined
          ? ` (mancano ${s(d['daysBefore'])} giorni alla scadenza).`
          : '.'),
    ],
    todo: `deliberare e registrare la deliberazione ${entro(s(d['deadline']))}.`,
    legal: `${TUEL30}; ${TERM}.`,
    deadline: dateOrEmpty(d['deadline']),
    eventTitle: `Scadenza delibera convenzione «${s(d['title'])}»`,
  }),
  'convention.deadline-expired': (d) => ({
    subject: `Termine scaduto: convenzione «${s(d['title'])}» — ${s(d['ente'])}`,
    body: [
      `il termine per deliberare sulla convenzione «${s(d['title'])}» per ${s(d['ente'])} è scaduto` +
        (d['deadline'] ? ` (${italianDate(s(d['deadline']))}).` : '.'),
    ],
    todo: 'il Consiglio può ancora deliberare e il segretario registrare la deliberazione; l’Unione può prorogare il termine con atto motivato o procedere secondo la regola di approvazione della convenzione.',
    legal: `${TUEL30}. Per le convenzioni volontarie non esiste potere sostitutivo (art. 136 TUEL solo per atti obbligatori).`,
  }),
  'convention.deadline-extended': (d) => ({
    subject: `Proroga del termine: convenzione «${s(d['title'])}» — deliberare ${entro(s(d['deadline']))}`,
    body: [
      `il termine per deliberare sulla convenzione «${s(d['title'])}» è prorogato.`,
      d['reason'] ? `Motivazione: ${s(d['reason'])}.` : '',
    ],
    todo: `deliberare e registrare la deliberazione ${entro(s(d['deadline']))}.`,
    legal: `${TUEL30}.`,
    deadline: dateOrEmpty(d['deadline']),
    eventTitle: `Scadenza prorogata: convenzione «${s(d['title'])}»`,
  }),
  'convention.non-aderente': (d) => ({
    subject: `${s(d['ente'])} non aderisce alla convenzione «${s(d['title'])}»`,
    body: [
      `scaduto anche il termine prorogato, ${s(d['ente'])} risulta NON ADERENTE alla convenzione «${s(d['title'])}».`,
    ],
    todo: s(d['task']) || 'verificare gli adempimenti dell’ente fuori dalla gestione associata.',
    legal: `${TUEL30}; art. 17 del D.Lgs. 82/2005 (CAD) per la nomina del RTD.`,
  }),
  'convention.deliberation-recorded': (d) => ({
    subject: `Deliberazione registrata: ${s(d['ente'])} — convenzione «${s(d['title'])}»`,
    body: [
      `${s(d['ente'])} ha registrato la deliberazione n. ${s(d['number'])} del ${italianDate(s(d['date']))}: ` +
        `${OUTCOMES[s(d['outcome'])] ?? s(d['outcome'])}.`,
    ],
    legal: `${TUEL30}; art. 42 TUEL.`,
  }),
  'convention.amended': (d) => ({
    subject: `Nuovo testo della convenzione «${s(d['title'])}» da riapprovare`,
    body: [
      `il gruppo di lavoro ha accolto un emendamento: il testo della convenzione «${s(d['title'])}» cambia.`,
      textRef(d),
    ],
    todo: 'ogni Consiglio delibera sul nuovo testo: le approvazioni della versione precedente non valgono per questa.',
    legal: `${TUEL30}: il testo approvato da tutti i consigli deve essere identico.`,
  }),
  'convention.amendment-refused': (d) => ({
    subject: `Emendamento non accolto: convenzione «${s(d['title'])}»`,
    body: [
      `l’emendamento proposto alla convenzione «${s(d['title'])}» non è stato accolto.`,
      d['reason'] ? `Motivazione: ${s(d['reason'])}.` : '',
    ],
    todo: 'il consiglio che ha proposto l’emendamento è chiamato a deliberare di nuovo sul testo vigente.',
    legal: `${TUEL30}.`,
  }),
  'convention.signed': (d) => ({
    subject: `Convenzione «${s(d['title'])}» sottoscritta`,
    body: [
      `la convenzione «${s(d['title'])}» è stata sottoscritta digitalmente da tutti gli enti.`,
      d['textHash'] ? `Impronta SHA-256 del testo: ${s(d['textHash'])}.` : '',
      d['decorrenza'] ? `Decorrenza: ${italianDate(s(d['decorrenza']))}.` : '',
    ],
    legal: 'art. 15, c. 2-bis, L. 241/1990 (firma digitale a pena di nullità); art. 30 TUEL.',
  }),
  'convention.in-force': (d) => ({
    subject: `Convenzione «${s(d['title'])}» in vigore`,
    body: [
      `la convenzione «${s(d['title'])}» è in vigore` +
        (d['from'] ? ` dal ${italianDate(s(d['from']))}` : '') +
        (d['expiresOn'] ? ` fino al ${italianDate(s(d['expiresOn']))}.` : '.'),
      d['textVersion'] ? `Versione del testo: ${s(d['textVersion'])}.` : '',
    ],
    todo: 'pubblicare la convenzione in Amministrazione Trasparente (art. 23 D.Lgs. 33/2013).',
    legal: `${TUEL30}.`,
  }),
  'convention.adhesion-invited': (d) => ({
    subject: `Adesione alla convenzione «${s(d['title'])}»: schema da deliberare`,
    body: [
      `si trasmette il testo vigente della convenzione «${s(d['title'])}» per l’adesione del comune.`,
      textRef(d),
    ],
    todo: 'sottoporre il testo al Consiglio comunale e registrare la deliberazione di adesione.',
    legal: `${TUEL30}; art. 42, c. 2, lett. c) TUEL.`,
  }),
  'convention.adhesion-completed': (d) => ({
    subject: `${s(d['ente'])} aderisce alla convenzione «${s(d['title'])}»`,
    body: [
      `${s(d['ente'])} ha sottoscritto l’atto aggiuntivo di adesione alla convenzione «${s(d['title'])}».`,
    ],
    legal: `${TUEL30}.`,
  }),
  'convention.recesso-recorded': (d) => ({
    subject: `Recesso registrato: ${s(d['ente'])} — convenzione «${s(d['title'])}»`,
    body: [
      `${s(d['ente'])} ha deliberato il recesso dalla convenzione «${s(d['title'])}»` +
        (d['effectiveDate'] ? `, con effetto dal ${italianDate(s(d['effectiveDate']))}.` : '.'),
    ],
    legal: `${TUEL30} e clausola di recesso della convenzione.`,
  }),
  'convention.recesso-effective': (d) => ({
    subject: `Recesso efficace: convenzione «${s(d['title'])}»`,
    body: [`il recesso dalla convenzione «${s(d['title'])}» produce effetto da oggi.`],
    todo: s(d['task']) || undefined,
    legal: `${TUEL30}; art. 17 CAD.`,
  }),
  'convention.failed': (d) => ({
    subject: `Convenzione «${s(d['title'])}» non approvata`,
    body: [`la convenzione «${s(d['title'])}» non è stata approvata.`, s(d['reason'])],
    legal: `${TUEL30}.`,
  }),
  'convention.abandoned': (d) => ({
    subject: `Procedimento archiviato: convenzione «${s(d['title'])}»`,
    body: [
      `il procedimento della convenzione «${s(d['title'])}» è stato archiviato.`,
      s(d['reason']),
    ],
    legal: `${TUEL30}.`,
  }),
  'convention.expired': (d) => ({
    subject: `Convenzione «${s(d['title'])}» scaduta`,
    body: [
      `la convenzione «${s(d['title'])}» è scaduta` +
        (d['expiresOn'] ? ` il ${italianDate(s(d['expiresOn']))}` : '') +
        ' senza rinnovo espresso.',
    ],
    todo: 'ogni comune che resta senza gestione associata deve nominare un proprio RTD e aggiornare IPA.',
    legal: `${TUEL30}; art. 17 CAD.`,
  }),
  'convention.terminated': (d) => ({
    subject: `Convenzione «${s(d['title'])}» cessata`,
    body: [`la convenzione «${s(d['title'])}» è cessata.`, s(d['reason'])],
    legal: `${TUEL30}.`,
  }),
  // ---- the associated RTD (art. 17 CAD): kinds of the RTD definition
  'rtd.vacancy': (d) => ({
    subject: `RTD non nominato: «${s(d['title'])}»${d['decreeBy'] ? ` — decreto ${entro(s(d['decreeBy']))}` : ''}`,
    body: [
      `dal ${italianDate(s(d['since']))} l’ufficio di Responsabile per la transizione al digitale (RTD) è vacante.`,
      d['reason'] ? `Motivo: ${RTD_VACANCY_REASONS[s(d['reason'])] ?? s(d['reason'])}.` : '',
    ],
    todo: d['decreeBy']
      ? `il Presidente dell’Unione nomina il nuovo RTD con decreto ${entro(s(d['decreeBy']))}.`
      : 'il Presidente dell’Unione nomina il nuovo RTD con decreto.',
    legal:
      'art. 17 del D.Lgs. 82/2005 (CAD); Circolare MinPA n. 3/2018 ("con ogni opportuna urgenza").',
    deadline: dateOrEmpty(d['decreeBy']),
    eventTitle: `Decreto di nomina del RTD («${s(d['title'])}»)`,
  }),
  'rtd.decree-issued': (d) => {
    const act = (d['act'] ?? {}) as Record<string, unknown>;
    const who = (d['appointee'] ?? {}) as Record<string, unknown>;
    return {
      subject: `Nomina del Responsabile per la transizione al digitale — ${s(who['name'])}`,
      body: [
        `con ${RTD_ACT_TYPES[s(act['type'])] ?? 'atto'} n. ${s(act['number'])} del ${italianDate(s(act['date']))} ${s(who['name'])} è nominato/a ` +
          `Responsabile per la transizione al digitale (RTD) in forma associata («${s(d['title'])}»)` +
          (d['startDate'] ? ` dal ${italianDate(s(d['startDate']))}` : '') +
          (d['endDate'] ? ` al ${italianDate(s(d['endDate']))}.` : '.'),
      ],
      todo: 'comunicare l’accettazione dell’incarico e rendere le dichiarazioni di insussistenza di cause di inconferibilità e incompatibilità (D.Lgs. 39/2013).',
      legal: 'art. 17, c. 1 e 1-septies, D.Lgs. 82/2005 (CAD); art. 50, c. 10, e art. 109 TUEL.',
    };
  },
  'rtd.accepted': (d) => ({
    subject: `RTD: incarico accettato — pubblicare${d['publishBy'] ? ` ${entro(s(d['publishBy']))}` : ''}`,
    body: [
      `${s((d['appointee'] as Record<string, unknown> | undefined)?.['name'])} ha accettato l’incarico di RTD («${s(d['title'])}»).`,
    ],
    todo: `pubblicare il decreto all’albo pretorio e in Amministrazione Trasparente${d['publishBy'] ? ` ${entro(s(d['publishBy']))}` : ''}.`,
    legal: 'art. 32 L. 69/2009 (albo online); artt. 13, 14 e 23 D.Lgs. 33/2013.',
    deadline: dateOrEmpty(d['publishBy']),
    eventTitle: 'Pubblicazione del decreto di nomina del RTD',
  }),
  'rtd.ipa-requested': (d) => ({
    subject: `Aggiornare IPA con il nuovo RTD${d['registerBy'] ? ` ${entro(s(d['registerBy']))}` : ''}`,
    body: [
      `il Responsabile per la transizione al digitale associato è ${s((d['appointee'] as Record<string, unknown> | undefined)?.['name'])} («${s(d['title'])}»).`,
    ],
    todo: `registrare l’RTD sull’Indice delle PA (IPA) per il proprio ente${d['registerBy'] ? ` ${entro(s(d['registerBy']))}` : ''} e confermarlo in Iter.`,
    legal: 'Circolare MinPA n. 3/2018; Linee guida IPA (Det. AgID 97/2019).',
    deadline: dateOrEmpty(d['registerBy']),
    eventTitle: 'Registrazione del RTD su IPA',
  }),
  'rtd.ipa-recheck': (d) => ({
    subject: `Verifica semestrale IPA del RTD${d['confirmBy'] ? ` ${entro(s(d['confirmBy']))}` : ''}`,
    body: [`è tempo della verifica semestrale dei dati del RTD su IPA («${s(d['title'])}»).`],
    todo: `verificare i dati su IPA e confermarli in Iter${d['confirmBy'] ? ` ${entro(s(d['confirmBy']))}` : ''}.`,
    legal: 'Linee guida IPA (Det. AgID 97/2019): aggiornamento almeno semestrale.',
    deadline: dateOrEmpty(d['confirmBy']),
    eventTitle: 'Verifica semestrale IPA del RTD',
  }),
  'rtd.active': (d) => ({
    subject: `RTD in carica per tutti gli enti: «${s(d['title'])}»`,
    body: [
      `${s((d['appointee'] as Record<string, unknown> | undefined)?.['name'])} è registrato/a su IPA per ogni ente servito: l’RTD associato è attivo.`,
    ],
    legal: 'art. 17 D.Lgs. 82/2005 (CAD).',
  }),
  'rtd.own-rtd-required': (d) => ({
    subject: `Nominare un proprio RTD: «${s(d['title'])}»`,
    body: ['l’ente non è più servito dall’RTD associato.'],
    todo: s(d['task']) || 'nominare un proprio RTD e aggiornare IPA.',
    legal: 'art. 17 D.Lgs. 82/2005 (CAD); art. 18-bis CAD (vigilanza AgID).',
  }),
  'rtd.reminder': (d) => {
    const t = rtdTerm(d);
    const due = dateOrEmpty(d['deadline']);
    return {
      subject: `Promemoria RTD: «${s(d['title'])}» — ${t.short}${due ? ` ${entro(due)}` : ''}`,
      body: [
        `si ricorda il termine per ${t.what} nel procedimento di nomina del RTD («${s(d['title'])}»)` +
          (due ? `: scade ${italianDate(due)}.` : '.'),
      ],
      todo: `${t.todo}${due ? ` ${entro(due)}` : ' entro il termine indicato nel procedimento'}.`,
      legal: 'art. 17 D.Lgs. 82/2005 (CAD); art. 155 c.p.c. (termine festivo prorogato).',
      deadline: due,
      eventTitle: `RTD: ${t.short}`,
    };
  },
  'rtd.deadline-expired': (d) => {
    const t = rtdTerm(d);
    const due = dateOrEmpty(d['deadline']);
    return {
      subject: `Termine scaduto nel procedimento RTD: «${s(d['title'])}» — ${t.short}`,
      body: [
        `il termine per ${t.what} è scaduto${due ? ` ${italianDate(due)}` : ''} («${s(d['title'])}»).`,
      ],
      todo: `${t.todo} senza ulteriore ritardo.`,
      legal: 'art. 17 D.Lgs. 82/2005 (CAD).',
    };
  },
  'rtd.ended': (d) => ({
    subject: `Fine dell’incarico di RTD associato: «${s(d['title'])}»`,
    body: ['l’incarico di RTD in forma associata è terminato.', s(d['reason'])],
    todo: 'ogni comune che resta senza RTD deve nominarne uno proprio e aggiornare IPA.',
    legal: 'art. 17 D.Lgs. 82/2005 (CAD).',
  }),
  'notification.delivery-failed': (d) => ({
    subject: `Mancata consegna PEC a ${s(d['ente'])}: «${s(d['originalSubject']) || s(d['template'])}»`,
    body: [
      `il gestore PEC ha emesso un avviso di mancata consegna per il messaggio inviato a ${s(d['ente'])}` +
        (d['at'] ? ` (${italianInstant(s(d['at']))}).` : '.'),
      d['error'] ? `Errore segnalato: ${s(d['error'])}.` : '',
    ],
    todo: 'verificare l’indirizzo PEC dell’ente nel registro (IPA) e reinviare la comunicazione; se la consegna avviene per altra via, registrarne la data a mano.',
    legal: 'art. 6 DPR 68/2005 (avviso di mancata consegna); art. 45 CAD.',
  }),
};

/** A kind without its own template (e.g. a definition added later): a plain Italian notice with its data. */
const generic: Template = (d, i) => {
  const fields = Object.entries(d)
    .filter(
      ([k, v]) =>
        !['instanceId', 'businessKey', 'roles'].includes(k) && v !== null && v !== undefined,
    )
    .filter(([, v]) => typeof v !== 'object')
    .map(
      ([k, v]) =>
        `- ${k}: ${dateOrEmpty(v) && String(v).length === 10 ? italianDate(String(v)) : String(v)}`,
    );
  const deadline = dateOrEmpty(d['deadline']) ?? dateOrEmpty(d['dueDate']);
  return {
    subject: `Comunicazione del procedimento${d['title'] ? ` «${s(d['title'])}»` : ''} (${i.kind})`,
    body: [`si comunica un passaggio del procedimento ${s(d['businessKey'])}:`, ...fields],
    todo: deadline ? `provvedere ${entro(deadline)}.` : undefined,
    legal: 'si veda il procedimento per i riferimenti normativi.',
    deadline,
    eventTitle: `Scadenza${d['title'] ? ` «${s(d['title'])}»` : ''}`,
  };
};

export const hasTemplate = (kind: string): boolean => kind in TEMPLATES;

export function renderNotice(i: NoticeInput): RenderedNotice {
  const t = TEMPLATES[i.kind] ?? generic;
  const p = t(i.data, i);
  const lines = [
    addressee(i.roles, i.recipient),
    '',
    'Gentili destinatari,',
    ...p.body.filter((l) => l !== ''),
    '',
    ...(p.todo ? [`Cosa fare: ${p.todo}`] : []),
    `Dove: ${i.processUrl}`,
    `Riferimenti normativi: ${p.legal}`,
    '',
    `${i.unione} — comunicazione inviata da Iter. Identificativo: ${i.notificationId}.`,
  ];
  const deadline = p.deadline ?? null;
  const ics = deadline
    ? deadlineIcs({
        uid: `${s(i.data['instanceId'])}-${i.recipient.codiceIpa}-${deadline}@${i.uidDomain}`,
        date: deadline,
        title: `${p.eventTitle ?? p.subject} — ${i.recipient.denominazione}`,
        description: p.todo ? `Cosa fare: ${p.todo}\n${i.processUrl}` : i.processUrl,
        url: i.processUrl,
      })
    : null;
  return { subject: p.subject, text: lines.join('\n'), deadline, ics };
}
