/**
 * A timestamptz column read as the ISO text the answers and the audit hash use — Date.toISOString's form, the
 * milliseconds truncated as the driver truncates them — so that no Date is parsed and printed again per row
 * (history pages, verification). `AS` the column's own name.
 */
export const isoColumn = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
