// JSON data files: an array of records, read into the same typed columns as CSV, each record located by its line.
import { CellBuilder, cellNullable, cellSetup, describeJson, type CellPlace } from './cells.js';
import type { Parsed } from './columns.js';
import { JsonDataError } from './load-errors.js';
import type { DeclaredType, LoadOptions } from './load-options.js';
import type { Column } from './table.js';

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

/** How deep a JSON data file may nest: records are flat, and V8's JSON.parse overflows the stack on deep input. */
export const JSON_DEPTH_LIMIT = 64;

/** An array of records: `[{"tenure": 1, "Contract": "Month-to-month"}, …]`; null or an absent key is missing. */
export function loadJson(bytes: Uint8Array, options: LoadOptions): Parsed {
  const file = options.file;
  checkJsonDepth(bytes, file);
  const text = new TextDecoder().decode(bytes);
  let records: unknown;
  try {
    records = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // V8 says "… in JSON at position 16" for most mistakes; the position becomes a line.
    const at = /^(.*?) in JSON at position (\d+)/.exec(message);
    const line = at ? lineAt(text, Number(at[2])) : undefined;
    const reason = at ? at[1] : message.replace(/\s+/g, ' ');
    throw new JsonDataError(`${line === undefined ? file : `${file}:${line}`}: the JSON does not parse (${reason}); fix the syntax`, { file, line: line ?? null });
  }
  if (!Array.isArray(records)) {
    throw new JsonDataError(`${file} holds ${describeJson(records)}, not an array of records; give [{"column": value, …}, …]`, { file });
  }
  const list: unknown[] = records;
  if (list.length === 0) throw new JsonDataError(`${file} has no data rows; add records`, { file });
  const lines = recordLines(bytes, list.length);
  const names: string[] = [];
  const seen = new Set<string>();
  list.forEach((record, r) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new JsonDataError(`${file}:${lines[r]}: record ${r + 1} is ${describeJson(record)}, not an object of column values`, { file, line: lines[r], record: r });
    }
    for (const key of Object.keys(record)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
  });
  const setup = cellSetup(names, options);
  const { log } = setup;
  const place = (r: number): CellPlace => ({ at: `${file}:${lines[r]}`, data: { file, line: lines[r] } });
  const columns = names.map((name): Column => {
    const cells = list.map((record) => (record as Record<string, unknown>)[name]);
    const type = setup.declared.get(name)?.type ?? inferJsonType(cells);
    const builder = new CellBuilder({ name, type, nullable: cellNullable(setup, name), instants: false }, list.length, place, log, setup.markers);
    builder.add(cells, 0);
    return builder.finish();
  });
  return { table: { rows: list.length, columns, lines: Int32Array.from(lines) }, violations: log?.list(names) ?? [] };
}

/**
 * Refuses JSON nested past JSON_DEPTH_LIMIT at the line where it goes too deep, before JSON.parse, which on
 * very deep input overflows the stack (a RangeError that used to exit as a bug in Bramble). Strings are skipped.
 */
function checkJsonDepth(bytes: Uint8Array, file: string): void {
  let depth = 0;
  let line = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === LF) {
      line++;
    } else if (b === QUOTE) {
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) {
        if (bytes[i] === 92) i++;
        else if (bytes[i] === LF) line++;
      }
    } else if (b === 91 || b === 123) {
      if (++depth > JSON_DEPTH_LIMIT) {
        throw new JsonDataError(`${file}:${line}: nested too deep (limit ${JSON_DEPTH_LIMIT}); flatten the records`, { file, line, limit: JSON_DEPTH_LIMIT });
      }
    } else if (b === 93 || b === 125) {
      depth--;
    }
  }
}
/** An undeclared JSON column's type: numbers, booleans, else categories — never dates (declare `type: date`). */
function inferJsonType(cells: readonly unknown[]): DeclaredType {
  let numbers = 0;
  let booleans = 0;
  let present = 0;
  for (const cell of cells) {
    if (cell === null || cell === undefined) continue;
    present++;
    if (typeof cell === 'number') numbers++;
    else if (typeof cell === 'boolean') booleans++;
  }
  if (numbers === present) return 'number';
  if (booleans === present) return 'boolean';
  return 'category';
}

function lineAt(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text.charCodeAt(i) === LF) line++;
  return line;
}

/** The line each top-level element starts on, found by a scan that skips strings. */
function recordLines(bytes: Uint8Array, count: number): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let expectValue = false;
  for (let i = 0; i < bytes.length && lines.length < count; i++) {
    const b = bytes[i];
    if (b === LF) {
      line++;
      continue;
    }
    if (b === SPACE || b === TAB || b === CR) continue;
    if (depth === 1 && expectValue) {
      lines.push(line);
      expectValue = false;
    }
    if (b === QUOTE) {
      for (i++; i < bytes.length && bytes[i] !== QUOTE; i++) if (bytes[i] === 92) i++;
    } else if (b === 91 || b === 123) {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (b === 93 || b === 125) {
      depth--;
    } else if (b === COMMA && depth === 1) {
      expectValue = true;
    }
  }
  while (lines.length < count) lines.push(line);
  return lines;
}

