/**
 * CSV for spreadsheet downloads (RFC 4180), safe to open in Excel or LibreOffice: every cell is quoted when
 * needed, and text a spreadsheet would run as a formula is neutralised (OWASP "CSV Injection").
 */

/** What a cell may hold; null and undefined are empty cells. */
export type CsvValue = string | number | null | undefined;

/** Characters that make a spreadsheet read a cell as a formula (OWASP: `=`, `+`, `-`, `@`, tab, carriage return). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell: a leading apostrophe when the text starts a formula (`=1+2` → `'=1+2`), then RFC 4180 §2
 * quoting when it holds a comma, double quote, CR or LF (`a"b` → `"a""b"`).
 */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record: cells joined by commas, ended by CRLF (RFC 4180 §2.1). */
export function csvRecord(cells: readonly CsvValue[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** A whole document: the header record, then one record per row. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map(csvRecord).join('');
}
