import { DateTime } from 'luxon';

const ZONE = 'Europe/Rome';

/** "martedì 7 aprile 2026" from a calendar date (YYYY-MM-DD) or an instant, in Europe/Rome. */
export function italianDate(value: string): string {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? DateTime.fromISO(value, { zone: ZONE })
    : DateTime.fromISO(value).setZone(ZONE);
  if (!d.isValid) return value;
  return d.setLocale('it').toFormat('cccc d LLLL yyyy');
}

/** "entro martedì 7 aprile 2026" */
export const entro = (date: string): string => `entro ${italianDate(date)}`;

/** "7 aprile 2026 alle 10:15" for an instant */
export function italianInstant(value: string): string {
  const d = DateTime.fromISO(value).setZone(ZONE);
  if (!d.isValid) return value;
  return d.setLocale('it').toFormat("d LLLL yyyy 'alle' HH:mm");
}

/** The calendar date (YYYY-MM-DD) of an instant or a date in Europe/Rome. */
export function romeDate(value: string): string | null {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? DateTime.fromISO(value, { zone: ZONE })
    : DateTime.fromISO(value).setZone(ZONE);
  return d.isValid ? d.toISODate() : null;
}

const ROLE_NAMES: Record<string, string> = {
  consiglio: 'Consiglio',
  segretario: 'Segretario',
  sindaco: 'Sindaco',
  presidente: 'Presidente',
  staff: 'Uffici',
  appointee: 'Responsabile per la transizione al digitale nominato',
};

/** "Al Consiglio comunale e al Segretario comunale di Palaia" */
export function addressee(
  roles: readonly string[],
  ente: { denominazione: string; kind: string },
): string {
  const comunale = ente.kind === 'UNIONE' ? 'dell’Unione' : 'comunale';
  const names = roles.map((r) => {
    const n = ROLE_NAMES[r] ?? r;
    if (r === 'consiglio' || r === 'segretario' || r === 'sindaco') return `${n} ${comunale}`;
    if (r === 'presidente' && ente.kind === 'UNIONE') return `${n} dell’Unione`;
    return n;
  });
  const list =
    names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} e ${names.at(-1)}`;
  const prep = ente.kind === 'UNIONE' ? '' : ` di ${ente.denominazione}`;
  return `Alla c.a. di: ${list}${ente.kind === 'UNIONE' ? ` — ${ente.denominazione}` : prep}`;
}
