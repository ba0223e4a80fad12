import type { NotificationSpec, Recipient } from '../definition';

/** the Unione's presidente, added to the notices about a late council */
const presidente = (_to: readonly Recipient[], unione: string): Recipient[] => [
  { ente: unione, role: 'presidente' },
];
/** every council whose segretario the machine names (an amendment goes to every council) */
const councilsToo = (to: readonly Recipient[]): Recipient[] =>
  to.filter((r) => r.role === 'segretario').map((r) => ({ ente: r.ente, role: 'consiglio' }));

/**
 * Who receives what, and how (docs/notifications.md has the same table). Every notice also lands in the
 * in-app inbox of each recipient role. `pec`: one formal message per ente to its PEC from the registry;
 * `email`: informal, to the personal e-mail the ente gives for the role (its PEC otherwise).
 */
export const conventionNotifications: Readonly<Record<string, NotificationSpec>> = {
  'convention.sent': {
    channel: 'pec',
    recipients: 'ogni consiglio comunale chiamato a deliberare e il suo segretario',
    // each council's term runs from its own ricevuta di avvenuta consegna
    deliveryEvent: 'convention.delivery.receipt',
  },
  'convention.reminder': {
    channel: 'pec',
    recipients: 'il consiglio e il segretario dell’ente in ritardo; il presidente dell’Unione',
    addRecipients: presidente,
  },
  'convention.deadline-expired': {
    channel: 'pec',
    recipients:
      'il consiglio e il segretario dell’ente in ritardo; il presidente e gli uffici dell’Unione',
  },
  'convention.deadline-extended': {
    channel: 'pec',
    recipients: 'il consiglio e il segretario di ogni ente prorogato; il presidente dell’Unione',
    addRecipients: presidente,
  },
  'convention.non-aderente': {
    channel: 'pec',
    recipients: 'il consiglio e il segretario dell’ente non aderente; il presidente e gli uffici',
  },
  'convention.deliberation-recorded': {
    channel: 'email',
    recipients: 'il presidente e gli uffici dell’Unione',
  },
  'convention.amended': {
    channel: 'pec',
    recipients:
      'ogni consiglio e ogni segretario degli enti partecipanti; il presidente e gli uffici',
    addRecipients: councilsToo,
  },
  'convention.amendment-refused': {
    channel: 'pec',
    recipients: 'il segretario di ogni ente partecipante',
  },
  'convention.signed': {
    channel: 'pec',
    recipients: 'il segretario e il sindaco (presidente) di ogni ente partecipante',
  },
  'convention.in-force': {
    channel: 'pec',
    recipients: 'ogni ente partecipante (segretario)',
  },
  'convention.adhesion-invited': {
    channel: 'pec',
    recipients: 'il consiglio e il segretario del comune che aderisce',
  },
  'convention.adhesion-completed': {
    channel: 'email',
    recipients: 'il presidente e gli uffici dell’Unione; il segretario di ogni ente',
  },
  'convention.recesso-recorded': {
    channel: 'email',
    recipients: 'il presidente e gli uffici dell’Unione',
  },
  'convention.recesso-effective': {
    channel: 'pec',
    recipients: 'il consiglio e il segretario dell’ente receduto; il presidente e gli uffici',
  },
  'convention.failed': {
    channel: 'pec',
    recipients: 'il segretario di ogni ente; il presidente e gli uffici dell’Unione',
  },
  'convention.abandoned': { channel: 'pec', recipients: 'il segretario di ogni ente' },
  'convention.expired': {
    channel: 'pec',
    recipients: 'il segretario di ogni ente partecipante; il presidente e gli uffici',
  },
  'convention.terminated': {
    channel: 'pec',
    recipients: 'il segretario di ogni ente; il presidente e gli uffici dell’Unione',
  },
};
