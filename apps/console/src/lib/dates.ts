/**
 * Dates in Europe/Rome. A calendar date (a session date, a deadline) is a plain YYYY-MM-DD string and is never
 * converted through UTC; an instant (a PEC delivery, a signature) is entered as Rome local time and sent with
 * Rome's offset of that moment (+01:00 or +02:00).
 */
export const ROME = 'Europe/Rome';

const parts = (d: Date, opts: Intl.DateTimeFormatOptions): Record<string, string> =>
  Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: ROME, hourCycle: 'h23', ...opts })
      .formatToParts(d)
      .map((p) => [p.type, p.value]),
  );

/** today's date in Rome, YYYY-MM-DD */
export function romeToday(now: Date = new Date()): string {
  const p = parts(now, { year: 'numeric', month: '2-digit', day: '2-digit' });
  return `${p['year']}-${p['month']}-${p['day']}`;
}

/** Rome local date-time of an instant, for <input type="datetime-local">: YYYY-MM-DDTHH:mm */
export function romeLocalDateTime(now: Date = new Date()): string {
  const p = parts(now, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  return `${p['year']}-${p['month']}-${p['day']}T${p['hour']}:${p['minute']}`;
}

/** Rome's UTC offset in minutes at an instant (60 in winter, 120 in summer) */
export function romeOffsetMinutes(at: Date): number {
  const p = parts(at, {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const asUtc = Date.UTC(
    Number(p['year']),
    Number(p['month']) - 1,
    Number(p['day']),
    Number(p['hour']),
    Number(p['minute']),
    Number(p['second']),
  );
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60000);
}

/** "2026-03-29T10:30" read as Rome local time → "2026-03-29T10:30:00+02:00" */
export function romeLocalToInstant(local: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) throw new Error(`not a local date-time: ${local}`);
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  // the offset at the guessed instant, then once more at the corrected one (DST edges)
  let off = romeOffsetMinutes(new Date(guess - 60 * 60000));
  off = romeOffsetMinutes(new Date(guess - off * 60000));
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}:00${sign}${hh}:${mm}`;
}

/**
 * A range of Rome days as the instants the API's history filters take (both ends inclusive): from the first
 * millisecond of `from` to the last millisecond of `to`, each with Rome's offset of that day.
 */
export function romeDayRange(from: string, to: string): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {};
  if (from) out.from = romeLocalToInstant(`${from}T00:00`);
  if (to) out.to = romeLocalToInstant(`${to}T23:59`).replace(/:00([+-])/, ':59.999$1');
  return out;
}

/** calendar days from one date to another (negative when `to` is before `from`) */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

const MONTHS = [
  'gennaio',
  'febbraio',
  'marzo',
  'aprile',
  'maggio',
  'giugno',
  'luglio',
  'agosto',
  'settembre',
  'ottobre',
  'novembre',
  'dicembre',
];

/** "2026-04-07" → "7 aprile 2026" */
export function formatDate(date: string | null | undefined): string {
  if (!date) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
  if (!m) return date;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
}

/** an instant shown in Rome time: "10 febbraio 2026, 10:00" */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = parts(d, { hour: '2-digit', minute: '2-digit' });
  return `${formatDate(romeToday(d))}, ${p['hour']}:${p['minute']}`;
}

/** "mancano 3 giorni" / "scade oggi" / "scaduto da 2 giorni" */
export function daysLeftLabel(days: number | null | undefined): string {
  if (days === null || days === undefined) return '—';
  if (days === 0) return 'scade oggi';
  if (days === 1) return 'manca 1 giorno';
  if (days > 1) return `mancano ${days} giorni`;
  if (days === -1) return 'scaduto da 1 giorno';
  return `scaduto da ${-days} giorni`;
}
