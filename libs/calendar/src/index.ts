/**
 * @app/calendar — Italian deadline arithmetic (DOMAIN.md §4), pure: no Nest, no I/O.
 * Calendar dates are `YYYY-MM-DD` strings (IsoDate), instants are JS Dates, every rule runs in Europe/Rome.
 */
export type { IsoDate } from './iso-date';
export { ROME, isIsoDate, addCalendarDays, compareIsoDate } from './iso-date';
export type { TermOptions } from './holidays';
export { isFestivo, nationalHolidays, easterSunday } from './holidays';
export type { ExecutivityReading } from './terms';
export { addDaysTerm, addMonthsTerm, backwardTerm, publicationEnd, executivityDate } from './terms';
export {
  endOfDayRome,
  atRomeTime,
  toRomeDate,
  isDateOnly,
  instantInRome,
  romeDateOf,
} from './rome-time';
