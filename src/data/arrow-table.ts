// Arrow IPC files (file or stream) into the typed columns; the cells of each column go through cells.ts.
import { arrowCells, readArrow, type ArrowColumn } from './arrow.js';
import { CellBuilder, cellNullable, cellSetup, nestedError, rowNumbers, rowPlace } from './cells.js';
import type { Parsed } from './columns.js';
import { DataFormatError } from './load-errors.js';
import type { DeclaredType, LoadOptions } from './load-options.js';
import type { Column } from './table.js';

/**
 * Arrow IPC bytes, decoded by arquero; the schema's types apply as to JSON records. Arrow has no lines, so
 * messages say `row N` (data rows from 1) where CSV says the line, and `Table.lines` holds those row numbers.
 */
export function loadArrow(bytes: Uint8Array, options: LoadOptions): Parsed {
  const file = options.file;
  const read = readArrow(bytes, file);
  if ('problem' in read) throw new DataFormatError(`${file} ${read.problem}`, file);
  const names = read.columns.map((c) => c.name);
  const setup = cellSetup(names, options);
  const { log } = setup;
  const place = rowPlace(file);
  const columns = read.columns.map((column): Column => {
    if (column.kind === 'nested') throw nestedError(file, column.name, `an Arrow ${column.type}`);
    const type = setup.declared.get(column.name)?.type ?? arrowType(column);
    const nullable = cellNullable(setup, column.name);
    const instants = column.kind === 'date' || column.kind === 'timestamp';
    const cells = arrowCells(column, type === 'number' || type === 'integer' || type === 'date');
    const builder = new CellBuilder({ name: column.name, type, nullable, instants }, read.rows, place, log, setup.markers);
    builder.add(cells, 0);
    return builder.finish();
  });
  return { table: { rows: read.rows, columns, lines: rowNumbers(read.rows) }, violations: log?.list(names) ?? [] };
}

/**
 * An undeclared Arrow column's type, from its Arrow type: numbers, booleans, dates for Date and Timestamp (the
 * file says they are instants, so nothing is guessed), and the rest as categories.
 */
function arrowType(column: ArrowColumn): DeclaredType {
  if (column.kind === 'number' || column.kind === 'null') return 'number';
  if (column.kind === 'date' || column.kind === 'timestamp') return 'date';
  return column.kind === 'boolean' ? 'boolean' : 'category';
}

