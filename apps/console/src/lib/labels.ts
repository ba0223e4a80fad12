/**
 * Everything the console shows to people is Italian. Codes from the API (states, events, fields, enum values,
 * error codes) are translated here; an unknown code falls back to a readable label, never to nothing.
 */

export const STATE_LABELS: Record<string, string> = {
  DRAFT: 'Bozza',
  UNDER_REVIEW: 'In revisione',
  FROZEN: 'Testo congelato',
  IN_DELIBERATION: 'In deliberazione nei consigli',
  STALLED: 'In stallo: termine scaduto',
  AMENDMENT_PENDING: 'Emendamento da esaminare',
  APPROVED_ALL: 'Approvata da tutti i consigli',
  APPROVED_PARTIAL: 'Approvata in parte (quorum)',
  READY_TO_SIGN: 'Pronta per la firma',
  SIGNED: 'Sottoscritta, in attesa di decorrenza',
  IN_FORCE: 'In vigore',
  AMENDING: 'In modifica',
  FAILED: 'Non approvata',
  ABANDONED: 'Archiviata',
  EXPIRED: 'Scaduta',
  TERMINATED: 'Cessata',
  // RTD (art. 17 CAD)
  VACANT: 'Incarico vacante',
  CANDIDATE_SELECTED: 'Candidato individuato',
  APPOINTED: 'Nominato con decreto',
  ACCEPTED: 'Incarico accettato',
  PUBLISHED: 'Pubblicato',
  ACTIVE: 'RTD in carica',
  REVOKED: 'Revocato',
  RESIGNED: 'Dimesso',
  REPLACED: 'Sostituito',
  IN_OFFICE: 'Incarico in corso',
  NOTIFICATION_PENDING: 'Notifica all’interessato da registrare',
  AWAITING_ACCEPTANCE: 'In attesa di accettazione',
  ALBO: 'Pubblicazione all’albo',
  TRASPARENZA: 'Pubblicazione in Amministrazione trasparente',
  PENDING: 'Da compiere',
  DONE: 'Compiuto',
  SERVING: 'In servizio',
  RECHECKING: 'Verifica IPA in corso',
  ENDED: 'Incarico concluso',
  OPEN: 'Aperto',
};

export const ENTE_STATUS_LABELS: Record<string, string> = {
  INVITED: 'In attesa di deliberazione',
  COUNCIL_CONVENED: 'Consiglio convocato',
  APPROVED: 'Approvata',
  APPROVED_WITH_AMENDMENTS: 'Approvata con emendamenti',
  EXECUTIVE: 'Esecutiva',
  ADMITTED: 'Adesione accolta',
  SIGNED: 'Firmata',
  REJECTED: 'Respinta',
  NON_ADERENTE: 'Non aderente',
  RECEDUTO: 'Receduto',
  // RTD: each ente served, on IPA
  IPA_PENDING: 'Registrazione su IPA da confermare',
  IPA_REGISTERED: 'Registrato su IPA',
  RECHECK_DUE: 'Verifica IPA da confermare',
  WITHDRAWN: 'Non più servito',
};

/** short titles of the actions; the definition's own Italian description is shown below them */
export const EVENT_LABELS: Record<string, string> = {
  'convention.freeze': 'Congela il testo',
  'convention.send': 'Registra l’invio PEC ai consigli',
  'convention.council.convene': 'Registra la convocazione del consiglio',
  'convention.deliberation.record': 'Registra la deliberazione',
  'convention.executivity.certify': 'Certifica l’esecutività',
  'convention.sign': 'Firma la convenzione',
  'convention.amendment.accept': 'Accogli l’emendamento',
  'convention.amendment.refuse': 'Respingi l’emendamento',
  'convention.amendment.open': 'Apri una modifica',
  'convention.adhesion.open': 'Avvia un’adesione successiva',
  'convention.adhesion.accept': 'Accogli l’adesione',
  'convention.recesso.record': 'Registra il recesso',
  'convention.renewal.record': 'Registra il rinnovo',
  'convention.dissolution.record': 'Registra lo scioglimento',
  'convention.recesso.effective': 'Effetto del recesso',
  'convention.expire': 'Scadenza della convenzione',
  'convention.deadline.extend': 'Proroga il termine',
  'convention.abandon': 'Archivia il procedimento',
  'convention.reminder': 'Sollecito automatico',
  'convention.deadline.expire': 'Scadenza del termine',
  'convention.decorrenza.reach': 'Decorrenza',
  'convention.delivery.receipt': 'Ricevuta di consegna PEC',
  'convention.delivery.record': 'Registra la consegna a un ente',
  'process.started': 'Avvio del procedimento',
  // RTD (art. 17 CAD)
  'rtd.candidate.select': 'Individua il candidato RTD',
  'rtd.candidate.withdraw': 'Ritira il candidato',
  'rtd.decree.issue': 'Adotta l’atto di nomina',
  'rtd.notification.record': 'Registra la notifica PEC all’interessato',
  'rtd.accept': 'Accetta la nomina',
  'rtd.decline': 'Rinuncia alla nomina',
  'rtd.publication.record': 'Registra la pubblicazione',
  'rtd.ipa.confirm': 'Conferma la registrazione su IPA',
  'rtd.revoke': 'Revoca l’RTD',
  'rtd.resignation.record': 'Registra le dimissioni',
  'rtd.incarico.end': 'Registra la fine dell’incarico dirigenziale o EQ',
  'rtd.term.expire': 'Scadenza dell’incarico',
  'rtd.ipa.recheck': 'Verifica periodica su IPA',
  'rtd.deadline.expire': 'Scadenza del termine',
  'rtd.reminder': 'Sollecito automatico',
  'rtd.ente.add': 'Nuovo ente servito',
  'rtd.ente.withdraw': 'Ente non più servito',
  'rtd.convention.end': 'Fine della convenzione',
};

export const FIELD_LABELS: Record<string, string> = {
  ente: 'Ente',
  number: 'Numero della deliberazione',
  date: 'Data',
  outcome: 'Esito',
  textHash: 'Impronta SHA-256 del testo approvato',
  amendments: 'Emendamenti approvati',
  pareri: 'Pareri (art. 49 TUEL)',
  votes: 'Votazione',
  ieVotes: 'Votazione sull’immediata eseguibilità',
  immediatamenteEseguibile: 'Dichiarata immediatamente eseguibile (art. 134 c.4 TUEL)',
  favorevoli: 'Favorevoli',
  contrari: 'Contrari',
  astenuti: 'Astenuti',
  presenti: 'Presenti',
  assegnati: 'Componenti assegnati',
  type: 'Tipo',
  signer: 'Firmatario',
  text: 'Testo della convenzione',
  deliveredAt: 'Consegna PEC (ricevuta di avvenuta consegna)',
  publicationStart: 'Primo giorno di pubblicazione all’albo',
  executiveOn: 'Data di esecutività certificata',
  signedAt: 'Data e ora della firma',
  signatureType: 'Tipo di firma',
  digitalSignature: 'Firmata digitalmente (obbligatorio, art. 15 c.2-bis L. 241/1990)',
  days: 'Giorni di proroga',
  reason: 'Motivazione',
  sessionDate: 'Data della seduta',
  noticeDate: 'Data della convocazione',
  effectiveDate: 'Data di effetto',
  title: 'Titolo',
  unione: 'Unione',
  members: 'Comuni partecipanti',
  // RTD
  person: 'Persona',
  codiceFiscale: 'Codice fiscale',
  decreeNumber: 'Numero del decreto',
  decreeDate: 'Data del decreto',
  startDate: 'Data di inizio',
  name: 'Nome e cognome',
  pec: 'PEC',
  email: 'E-mail',
  level: 'Livello dell’incarico',
  enteHasDirigenti: 'L’ente ha personale con qualifica dirigenziale',
  competences: 'Competenze (art. 17 c.1-ter CAD)',
  tecnologiche: 'Tecnologiche',
  giuridiche: 'Giuridiche',
  manageriali: 'Manageriali',
  declarations: 'Dichiarazioni (D.Lgs. 39/2013)',
  inconferibilita: 'Nessuna causa di inconferibilità',
  incompatibilita: 'Nessuna causa di incompatibilità',
  incaricoEnd: 'Fine dell’incarico dirigenziale o EQ',
  act: 'Atto di nomina',
  durationMonths: 'Durata (mesi)',
  entes: 'Enti serviti',
  referenti: 'Referenti (uno per ente)',
  registeredOn: 'Data di registrazione su IPA',
  reference: 'Riferimento',
  channel: 'Canale di pubblicazione',
  receiptId: 'Identificativo della ricevuta',
  // the convention's rules (StartConventionDto.policy, docs/convention.md): the default in brackets
  policy: 'Regole del procedimento',
  approval: 'Approvazione (predefinita: unanimità)',
  quorumMinEntes: 'Quorum: enti che devono approvare (predefinito: tutti i comuni)',
  quorumMinPopulationPct: 'Quorum: popolazione minima rappresentata, % (predefinito: 0)',
  nonDeliberating: 'Se un consiglio non delibera nel termine',
  extensionDays: 'Giorni della proroga (predefinito: 30)',
  councilNoticeDays: 'Preavviso minimo di convocazione del consiglio, giorni (predefinito: 5)',
  requirePareri: 'Pareri art. 49 TUEL obbligatori',
  durationYears: 'Durata della convenzione, anni (predefinito: 5)',
  recessoNoticeDays: 'Preavviso di recesso, giorni (predefinito: 180)',
  minComuni: 'Comuni minimi perché la convenzione resti in vigore (predefinito: 2)',
  councilDeadlineDays: 'Termine per deliberare, giorni dalla consegna PEC (predefinito: 60)',
  reminderDaysBefore: 'Solleciti, giorni prima del termine (predefinito: 15, 7, 1)',
  executivityReading: 'Calcolo dell’esecutività (predefinito: 11° giorno di pubblicazione)',
  decorrenza: 'Decorrenza (predefinita: all’ultima firma)',
  decorrenzaDate: 'Data di decorrenza (solo con data fissa)',
  costClauses: 'Clausole di spesa (parere contabile obbligatorio)',
  saturdayExtends: 'Un termine che cade di sabato slitta al primo giorno lavorativo',
};

/** the same field name can mean different things in one form: "date" of a deliberation is the session date */
export const FIELD_LABELS_BY_EVENT: Record<string, Record<string, string>> = {
  'convention.deliberation.record': { date: 'Data della seduta' },
  'convention.recesso.record': { date: 'Data della deliberazione' },
  'convention.renewal.record': { date: 'Data della deliberazione' },
  'convention.dissolution.record': { date: 'Data della deliberazione' },
  'convention.adhesion.accept': { date: 'Data della deliberazione di Giunta' },
  'rtd.publication.record': { date: 'Data di pubblicazione' },
  'rtd.revoke': { number: 'Numero del decreto di revoca', date: 'Data del decreto di revoca' },
  'rtd.resignation.record': { date: 'Data delle dimissioni' },
  'rtd.incarico.end': { date: 'Data di fine dell’incarico' },
};

export const ENUM_LABELS: Record<string, string> = {
  APPROVED: 'Approvata',
  APPROVED_WITH_AMENDMENTS: 'Approvata con emendamenti',
  REJECTED: 'Respinta',
  RINVIATA: 'Rinviata',
  SEDUTA_DESERTA: 'Seduta deserta',
  TECNICO: 'Regolarità tecnica',
  CONTABILE: 'Regolarità contabile',
  REVISORE: 'Organo di revisione',
  FAVOREVOLE: 'Favorevole',
  CONTRARIO: 'Contrario',
  NON_DOVUTO: 'Non dovuto',
  FIRMA_DIGITALE: 'Firma digitale',
  FEA: 'Firma elettronica avanzata',
  FEQ: 'Firma elettronica qualificata',
  UNANIMITY: 'Unanimità',
  QUORUM: 'Quorum',
  DIRIGENTE: 'Dirigente',
  EQ: 'Elevata qualificazione (EQ)',
  DECRETO: 'Decreto del Presidente',
  DELIBERA_GIUNTA: 'Deliberazione di Giunta',
  DETERMINA: 'Determinazione',
  ALBO: 'Albo pretorio',
  AMMINISTRAZIONE_TRASPARENTE: 'Amministrazione trasparente',
  STALL: 'Il procedimento resta in attesa',
  EXTEND_ONCE_THEN_NON_ADERENTE: 'Una proroga, poi l’ente non aderisce',
  P_PLUS_10: 'Dal 10° giorno di pubblicazione',
  P_PLUS_11: 'Dall’11° giorno di pubblicazione',
  AFTER_PUBLICATION_PLUS_10: '10 giorni dopo la fine della pubblicazione',
  AT_LAST_SIGNATURE: 'All’ultima firma',
  FIRST_DAY_OF_NEXT_MONTH: 'Dal primo giorno del mese successivo',
  FIXED_DATE: 'Da una data fissa',
  true: 'Sì',
  false: 'No',
};

export const ROLE_LABELS: Record<string, string> = {
  presidente: 'Presidente dell’Unione',
  segretario: 'Segretario',
  sindaco: 'Sindaco',
  staff: 'Staff dell’Unione',
  gruppo_lavoro: 'Gruppo di lavoro',
  appointee: 'RTD nominato',
  auditor: 'Revisore',
  admin: 'Amministratore',
  system: 'Iter (automatico)',
};

/** one short Italian line per template of libs/notifications (test/console/state-labels.spec.ts checks them all) */
export const TEMPLATE_LABELS: Record<string, string> = {
  'convention.sent': 'Schema di convenzione trasmesso al consiglio',
  'convention.reminder': 'Sollecito: il termine per deliberare si avvicina',
  'convention.deadline-expired': 'Termine per deliberare scaduto',
  'convention.deadline-extended': 'Termine per deliberare prorogato',
  'convention.non-aderente': 'Un ente non aderisce alla convenzione',
  'convention.deliberation-recorded': 'Deliberazione registrata',
  'convention.amended': 'Nuova versione del testo da riapprovare',
  'convention.amendment-refused': 'Emendamento non accolto',
  'convention.signed': 'Convenzione sottoscritta da tutti',
  'convention.in-force': 'Convenzione in vigore',
  'convention.adhesion-invited': 'Adesione alla convenzione: schema da deliberare',
  'convention.adhesion-completed': 'Adesione alla convenzione completata',
  'convention.recesso-recorded': 'Recesso registrato',
  'convention.recesso-effective': 'Recesso efficace',
  'convention.failed': 'Convenzione non approvata',
  'convention.abandoned': 'Procedimento archiviato',
  'convention.expired': 'Convenzione scaduta',
  'convention.terminated': 'Convenzione cessata',
  'rtd.vacancy': 'RTD non nominato: incarico vacante',
  'rtd.decree-issued': 'Decreto di nomina del RTD adottato',
  'rtd.accepted': 'Incarico di RTD accettato: pubblicare la nomina',
  'rtd.ipa-requested': 'Aggiornare IPA con il nuovo RTD',
  'rtd.ipa-recheck': 'Verifica semestrale del RTD su IPA',
  'rtd.active': 'RTD in carica per tutti gli enti',
  'rtd.own-rtd-required': 'Nominare un proprio RTD',
  'rtd.reminder': 'Promemoria del procedimento RTD',
  'rtd.deadline-expired': 'Termine scaduto nel procedimento RTD',
  'rtd.ended': 'Fine dell’incarico di RTD associato',
  'notification.delivery-failed': 'Mancata consegna PEC',
};

/** Italian for the API's stable error codes (the API's own message is shown too when it is more specific) */
export const ERROR_LABELS: Record<string, string> = {
  VALIDATION_FAILED: 'Alcuni campi non sono validi',
  VERSION_CONFLICT: 'Qualcuno ha appena aggiornato il procedimento',
  TRANSITION_NOT_ALLOWED: 'Questa azione non è più ammessa nello stato attuale',
  RULE_VIOLATION: 'L’azione non rispetta una regola del procedimento',
  FORBIDDEN: 'Non è consentito a questo utente',
  UNAUTHENTICATED: 'Sessione scaduta: accedere di nuovo',
  PROCESS_NOT_FOUND: 'Procedimento non trovato',
  IDEMPOTENCY_KEY_REUSED: 'Richiesta già inviata con dati diversi',
  RATE_LIMITED: 'Troppe richieste: riprovare tra poco',
  DATABASE_UNAVAILABLE: 'Servizio momentaneamente non disponibile: riprovare tra poco',
  QUEUE_UNAVAILABLE: 'Servizio momentaneamente non disponibile: riprovare tra poco',
  NETWORK: 'Impossibile contattare il server',
};

/** class-validator's English messages → Italian (the rule messages of the API are Italian already) */
const VALIDATION_PATTERNS: [RegExp, string][] = [
  // the API's plain words (libs/engine/src/validation.ts) and the DTOs' own messages; specific before general
  [/^required$/i, 'Campo obbligatorio'],
  [/not after today/i, 'La data non può essere futura'],
  [/must be a date YYYY-MM-DD/i, 'Inserire una data valida'],
  [/must be a codice IPA/i, 'Selezionare un ente'],
  [
    /codice ?fiscale/i,
    'Codice fiscale non valido: 16 caratteri maiuscoli, con il carattere di controllo esatto',
  ],
  [/must be a number, optionally/i, 'Inserire un numero (es. 48 oppure 48/2026)'],
  [/must be a lowercase hex SHA-256/i, 'Impronta SHA-256 non valida (64 caratteri esadecimali)'],
  [
    /should not be empty|must not be empty|must be longer than or equal to 1 /i,
    'Campo obbligatorio',
  ],
  [/must be longer than or equal to (\d+)/i, 'Inserire almeno $1 caratteri'],
  [/must be shorter than or equal to (\d+)/i, 'Inserire al massimo $1 caratteri'],
  [/must be one of the following values/i, 'Scegliere uno dei valori proposti'],
  [/must not be less than (\d+)/i, 'Il valore minimo è $1'],
  [/must not be greater than (\d+)/i, 'Il valore massimo è $1'],
  [/must be an integer/i, 'Inserire un numero intero'],
  [/must be a boolean|must be true or false/i, 'Valore sì/no richiesto'],
  [/must be a valid ISO 8601|date-time ISO 8601/i, 'Inserire data e ora valide'],
  [/must be an email/i, 'Inserire un indirizzo e-mail valido'],
  [/must contain at least (\d+) elements?/i, 'Indicarne almeno $1'],
  [/must contain no more than (\d+) elements?/i, 'Indicarne al massimo $1'],
  [/elements must be unique/i, 'Ogni valore una sola volta'],
  [/must be a list|must be an array/i, 'Inserire un elenco'],
  [/must be an object/i, 'Dati mancanti o non validi'],
  [/does not have the expected format/i, 'Formato non valido'],
  [/must be a string/i, 'Campo obbligatorio'],
  [/unknown field/i, 'Campo non previsto'],
  [/already used by this ente/i, 'Numero già usato da questo ente per lo stesso organo e anno'],
];

export function translateValidation(msg: string): string {
  for (const [re, it] of VALIDATION_PATTERNS) {
    const m = re.exec(msg);
    if (m) return it.replace('$1', m[1] ?? '');
  }
  // a message the console does not know: never show English to the user
  return 'Valore non valido';
}

/** "publicationStart" → "Publication start"; "convention.deadline.extend" → "Convention deadline extend" */
export function humanize(code: string): string {
  const words = code
    .replace(/[._-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const stateLabel = (s: string): string => STATE_LABELS[s] ?? humanize(s);
export const enteStatusLabel = (s: string): string => ENTE_STATUS_LABELS[s] ?? humanize(s);
export const eventLabel = (t: string): string => EVENT_LABELS[t] ?? humanize(t);
export const enumLabel = (v: string): string => ENUM_LABELS[v] ?? humanize(v);
export const roleLabel = (r: string): string => ROLE_LABELS[r] ?? humanize(r);
/** labels of fields inside a group: "date" of a parere is the parere's date */
export const NESTED_FIELD_LABELS: Record<string, string> = {
  'pareri.date': 'Data del parere',
  'pareri.type': 'Tipo di parere',
  'pareri.outcome': 'Esito del parere',
  'act.type': 'Tipo di atto',
  'act.number': 'Numero dell’atto',
  'act.date': 'Data dell’atto',
  'referenti.name': 'Nome e cognome del referente',
  'referenti.email': 'E-mail del referente',
};

/** a field's Italian label; `parent` is the enclosing group's name for nested fields */
export function fieldLabel(name: string, eventType?: string, parent?: string): string {
  if (parent)
    return NESTED_FIELD_LABELS[`${parent}.${name}`] ?? FIELD_LABELS[name] ?? humanize(name);
  return (
    (eventType ? FIELD_LABELS_BY_EVENT[eventType]?.[name] : undefined) ??
    FIELD_LABELS[name] ??
    humanize(name)
  );
}
