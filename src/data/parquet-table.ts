// Parquet files into the typed columns, one row group at a time; the cells of each column go through cells.ts.
import { CellBuilder, cellNullable, cellSetup, nestedError, rowNumbers, rowPlace } from './cells.js';
import type { Parsed } from './columns.js';
import { DataFormatError } from './load-errors.js';
import type { DeclaredType, LoadOptions } from './load-options.js';
import { openParquet, type ParquetColumn } from './parquet.js';

/**
 * Parquet bytes, decoded by hyparquet one row group at a time, column by column, into the typed columns: a
 * row group's values are the only ones held as plain values at any time. The schema's types apply as to Arrow;
 * DATE and TIMESTAMP columns are dates (in UTC), strings categories, and an int64 beyond 2^53 is refused where
 * it is, as in Arrow.
 */
export async function loadParquet(bytes: Uint8Array, options: LoadOptions): Promise<Parsed> {
  const file = options.file;
  const read = await openParquet(bytes, file);
  if ('problem' in read) throw new DataFormatError(`${file} ${read.problem}`, file);
  const names = read.columns.map((c) => c.name);
  const setup = cellSetup(names, options);
  const { log } = setup;
  const place = rowPlace(file);
  const plans = read.columns.map((column) => {
    if (column.kind === 'nested') throw nestedError(file, column.name, `a Parquet ${column.type}`);
    const type = setup.declared.get(column.name)?.type ?? parquetType(column);
    const nullable = cellNullable(setup, column.name);
    const instants = column.kind === 'date' || column.kind === 'timestamp';
    // An instant declared as text is shown as Arrow's are: 2024-01-05 for a DATE, ISO in UTC for a timestamp.
    const asText = instants && (type === 'category' || type === 'string') ? (column.kind === 'date' ? 10 : 24) : 0;
    return { column, asText, builder: new CellBuilder({ name: column.name, type, nullable, instants }, read.rows, place, log, setup.markers) };
  });
  for (const group of read.groups) {
    for (const { column, asText, builder } of plans) {
      const cells = await read.readColumn(column.name, group);
      builder.add(asText > 0 ? instantTexts(cells, asText) : cells, group.rowStart);
    }
  }
  const columns = plans.map((p) => p.builder.finish());
  return { table: { rows: read.rows, columns, lines: rowNumbers(read.rows) }, violations: log?.list(names) ?? [] };
}

function parquetType(column: ParquetColumn): DeclaredType {
  if (column.kind === 'number' || column.kind === 'null') return 'number';
  if (column.kind === 'date' || column.kind === 'timestamp') return 'date';
  return column.kind === 'boolean' ? 'boolean' : 'category';
}

function instantTexts(cells: ArrayLike<unknown>, length: number): unknown[] {
  return Array.from(cells, (v) => (typeof v === 'number' ? new Date(v).toISOString().slice(0, length) : v));
}
