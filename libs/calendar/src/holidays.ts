import Holidays from 'date-holidays';
import { DateTime } from 'luxon';
import { type IsoDate, ROME, fromRomeDay, toRomeDay } from './iso-date';

/**
 * Options of a term computation.
 * - `saturdayExtends`: a term falling on a Saturday moves to the next working day. Only for procedural
 *   acts outside hearings (art. 155 c.5 c.p.c.; art. 52 c.5 c.p.a.); for plain administrative
 *   deadlines Saturday is a working day, hence the default `false`.
 * - `extraHolidays`: further festivo dates, opt-in per ente (e.g. the patron saint day, which is a local
 *   holiday and NOT festivo for legal deadlines by default). Concrete dates, one per year wanted.
 */
export interface TermOptions {
  saturdayExtends?: boolean;
  extraHolidays?: readonly IsoDate[];
}

/**
 * National holidays by statute (DOMAIN.md §4.2): L. 260/1949 art. 2 as reduced by L. 54/1977
 * (San Giuseppe, Ascensione, Corpus Domini, SS. Pietro e Paolo and 4 Nov are no longer holidays);
 * 6 Jan restored by DPR 792/1985; 2 Jun restored by L. 336/2000; 4 Oct (San Francesco) added by
 * L. 151/2025 from 2026. Easter Monday is movable and added separately; Sundays (Easter Sunday included)
 * are festivo by the weekday rule.
 * Pre-2001 history (2 Jun moved to a Sunday, 6 Jan abolished 1977-1985) is deliberately not modelled:
 * Iter computes current terms.
 */
const STATUTORY_FIXED: readonly { readonly monthDay: string; readonly fromYear?: number }[] = [
  { monthDay: '01-01' }, // Capodanno
  { monthDay: '01-06' }, // Epifania (DPR 792/1985)
  { monthDay: '04-25' }, // Liberazione
  { monthDay: '05-01' }, // Festa del lavoro
  { monthDay: '06-02' }, // Festa della Repubblica (L. 336/2000)
  { monthDay: '08-15' }, // Assunzione
  { monthDay: '10-04', fromYear: 2026 }, // San Francesco d'Assisi (L. 151/2025, from 2026)
  { monthDay: '11-01' }, // Ognissanti
  { monthDay: '12-08' }, // Immacolata
  { monthDay: '12-25' }, // Natale
  { monthDay: '12-26' }, // Santo Stefano
];

/** Easter Sunday (Gregorian computus, Meeus/Butcher algorithm; proleptic before 1583). */
export function easterSunday(year: number): IsoDate {
  if (!Number.isSafeInteger(year) || year < 1 || year > 9999) {
    throw new RangeError(`year must be an integer between 1 and 9999, got ${String(year)}`);
  }
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return fromRomeDay(DateTime.fromObject({ year, month, day }, { zone: ROME }));
}

/** The statutory list for a year (no Sundays): the legal reference the library data is corrected to. */
function statutoryHolidays(year: number): Set<IsoDate> {
  const out = new Set<IsoDate>();
  for (const h of STATUTORY_FIXED) {
    if (h.fromYear === undefined || year >= h.fromYear)
      out.add(`${String(year).padStart(4, '0')}-${h.monthDay}`);
  }
  // Lunedì dell'Angelo (L. 260/1949 art. 2).
  out.add(fromRomeDay(toRomeDay(easterSunday(year)).plus({ days: 1 })));
  return out;
}

let holidaysLib: Holidays | undefined;

/** National public holidays of Italy as reported by `date-holidays` (no region: national only). */
function libraryPublicHolidays(year: number): Set<IsoDate> {
  holidaysLib ??= new Holidays('IT', { timezone: ROME });
  const list = holidaysLib.getHolidays(year) || [];
  // `date` is the local calendar date as 'YYYY-MM-DD hh:mm:ss'; keep type 'public' only
  // (this drops observances such as Festa della mamma). The year check discards an artefact of the
  // library for years < 100 (JS Date maps them to 19xx).
  const prefix = `${String(year).padStart(4, '0')}-`;
  return new Set(
    list
      .filter((h) => h.type === 'public' && h.date.startsWith(prefix))
      .map((h) => h.date.slice(0, 10)),
  );
}

/** Differences between date-holidays and the statute for a year (diagnostics and tests). */
export interface HolidayCorrections {
  /** In date-holidays but not a national holiday by statute (or a Sunday, already festivo). */
  readonly dropped: readonly IsoDate[];
  /** Required by statute but missing from date-holidays. */
  readonly added: readonly IsoDate[];
}

interface YearEntry {
  readonly dates: ReadonlySet<IsoDate>;
  readonly corrections: HolidayCorrections;
}

const cache = new Map<number, YearEntry>();

function yearEntry(year: number): YearEntry {
  let entry = cache.get(year);
  if (entry) return entry;
  const statutory = statutoryHolidays(year);
  const fromLib = libraryPublicHolidays(year);
  // 1. Filter: keep only what the statute lists. This drops e.g. Easter Sunday (already a Sunday) and
  //    one-off holidays such as 17 Mar 2011 (DL 5/2011, 150th anniversary of unification), which
  //    DOMAIN.md §4.2 does not list.
  const kept = [...fromLib].filter((d) => statutory.has(d));
  const dropped = [...fromLib].filter((d) => !statutory.has(d) && toRomeDay(d).weekday !== 7);
  // 2. Add: whatever the statute requires and the library lacks (e.g. 4 Oct from 2026, L. 151/2025,
  //    with a date-holidays release older than that law).
  const added = [...statutory].filter((d) => !fromLib.has(d));
  entry = {
    dates: new Set([...kept, ...added]),
    corrections: { dropped: dropped.sort(), added: added.sort() },
  };
  cache.set(year, entry);
  return entry;
}

/** National holidays of a year (Sundays not listed), sorted: exactly DOMAIN.md §4.2. */
export function nationalHolidays(year: number): readonly IsoDate[] {
  return [...yearEntry(year).dates].sort();
}

/** What had to be corrected in the date-holidays data for this year. */
export function holidayCorrections(year: number): HolidayCorrections {
  return yearEntry(year).corrections;
}

/**
 * Internal: a festivo predicate for a set of options, with `extraHolidays` validated once
 * (used by the term loops). `day` must already be a valid Rome day.
 */
export function festivoTest(opts?: TermOptions): (day: DateTime) => boolean {
  const extra = new Set<IsoDate>();
  for (const d of opts?.extraHolidays ?? []) {
    toRomeDay(d, 'extraHolidays entry');
    extra.add(d);
  }
  return (day) => {
    if (day.weekday === 7) return true; // every Sunday (art. 155 c.4 c.p.c.; L. 260/1949)
    const iso = fromRomeDay(day);
    return yearEntry(day.year).dates.has(iso) || extra.has(iso);
  };
}

/** Sunday, national holiday (DOMAIN.md §4.2), or one of `opts.extraHolidays`. Saturday is never festivo. */
export function isFestivo(date: IsoDate, opts?: TermOptions): boolean {
  return festivoTest(opts)(toRomeDay(date));
}
