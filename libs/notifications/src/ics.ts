import { createEvent, createEvents, type EventAttributes } from 'ics';
import { DateTime } from 'luxon';

export interface DeadlineEvent {
  /** stable: the same deadline of the same ente in the same process keeps its UID across notices */
  uid: string;
  /** the due date (YYYY-MM-DD, Europe/Rome): an all-day event */
  date: string;
  title: string;
  description: string;
  url?: string;
}

/** alarms at 09:00 Rome, 7 days and 1 day before the due day (relative to the all-day start, 00:00) */
const ALARM_HOURS_BEFORE = [24 * 7 - 9, 24 - 9];

function attributes(e: DeadlineEvent): EventAttributes {
  const d = DateTime.fromISO(e.date, { zone: 'Europe/Rome' });
  const next = d.plus({ days: 1 });
  return {
    uid: e.uid,
    start: [d.year, d.month, d.day],
    end: [next.year, next.month, next.day],
    title: e.title,
    description: e.description,
    ...(e.url ? { url: e.url } : {}),
    productId: 'iter/notifications',
    status: 'CONFIRMED',
    busyStatus: 'FREE',
    alarms: ALARM_HOURS_BEFORE.map((h) => ({
      action: 'display' as const,
      description: `Promemoria: ${e.title}`,
      trigger: { hours: h, before: true },
    })),
  };
}

/** One all-day event with alarms, as the text of an .ics file. */
export function deadlineIcs(e: DeadlineEvent): string {
  const { error, value } = createEvent(attributes(e));
  if (error || !value) throw new Error(`ics: ${error?.message ?? 'no output'}`);
  return value;
}

/** A calendar feed (an ente's open deadlines); an empty feed is a valid empty calendar. */
export function deadlineFeed(name: string, events: readonly DeadlineEvent[]): string {
  if (events.length === 0) {
    return [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:iter/notifications',
      'CALSCALE:GREGORIAN',
      `X-WR-CALNAME:${name.replace(/[\r\n]/g, ' ')}`,
      'END:VCALENDAR',
      '',
    ].join('\r\n');
  }
  const { error, value } = createEvents(events.map(attributes), { calName: name });
  if (error || !value) throw new Error(`ics: ${error?.message ?? 'no output'}`);
  return value;
}
