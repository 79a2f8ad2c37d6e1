import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv, type CsvTable } from '../src/data/csv.js';
import { loadTable, readTable } from '../src/data/load.js';
import type { LoadOptions } from '../src/data/load-options.js';
import { cellValue, type Table } from '../src/data/table.js';
import { runPipeline } from '../src/pipeline/run.js';
import { checkServeConfig } from '../src/serve/config.js';
import { writeCandidate } from '../src/serve/host.js';
import { buildServer } from '../src/serve/server.js';

/**
 * Training reads CSV with readTable/loadTable (typed columns), serving reads request bodies with parseCsv
 * (strings). Both go through one record reader; these files prove that they read every field the same.
 */
const TRICKY = {
  'quotes, doubled quotes and text after a closing quote':
    'id,name,note\n1,"Smith, Jane","she said ""hi"""\n2,"a""b"c,plain\n3,x"y,"z"\n',
  'embedded newlines (LF and CRLF) inside quotes': 'id,name,note\n1,"two\nlines",a\n2,"crlf\r\ninside",b\n3,c,d\n',
  'CRLF line ends and a blank line': 'id,name,note\r\n1,a,b\r\n\r\n2,c,d\r\n3,e,f',
  'a UTF-8 byte-order mark': '\uFEFFid,name,note\n1,é,ü\n2,"ß",""\n',
  'empty fields, quoted and not': 'id,name,note\n1,,\n2,"",""\n3,x,\n',
  'a lone CR inside a field of an LF file': 'id,name,note\n1,a\rb,c\n2,d,e\n',
  'classic Mac CR line ends': 'id,name,note\r1,a,b\r2,c,d\r',
} as const;

const COLUMNS: LoadOptions['columns'] = {
  id: { type: 'integer' },
  name: { type: 'string', nullable: true },
  note: { type: 'string', nullable: true },
};

/** What parseCsv's strings mean in typed columns: an empty field is missing (null), an id a number. */
function expected(parsed: CsvTable): Record<string, unknown[]> {
  return Object.fromEntries(
    parsed.header.map((name, c) => [name, parsed.rows.map((row) => (row[c] === '' ? null : name === 'id' ? Number(row[c]) : row[c]))]),
  );
}

function cells(table: Table): Record<string, unknown[]> {
  return Object.fromEntries(table.columns.map((c) => [c.name, Array.from({ length: table.rows }, (_, r) => cellValue(c, r))]));
}

describe('one CSV reader for training and serving', () => {
  it.each(Object.entries(TRICKY))('%s: parseCsv, loadTable and readTable read the same fields on the same lines', async (_, text) => {
    const parsed = parseCsv(text, 'data/t.csv');
    const bytes = new TextEncoder().encode(text);
    const inMemory = loadTable(bytes, { file: 'data/t.csv', columns: COLUMNS }).table;
    const dir = mkdtempSync(join(tmpdir(), 'bramble-csv-'));
    writeFileSync(join(dir, 't.csv'), bytes);
    const fromDisk = (await readTable(join(dir, 't.csv'), { file: 'data/t.csv', columns: COLUMNS })).table;
    expect(parsed.header).toEqual(['id', 'name', 'note']);
    for (const table of [inMemory, fromDisk]) {
      expect(table.columns.map((c) => c.name)).toEqual(parsed.header);
      expect(Array.from(table.lines)).toEqual(parsed.lines);
      expect(cells(table)).toEqual(expected(parsed));
    }
  });

  it('reads the tricky fields as RFC 4180 says', () => {
    expect(parseCsv(TRICKY['quotes, doubled quotes and text after a closing quote']).rows).toEqual([
      ['1', 'Smith, Jane', 'she said "hi"'],
      ['2', 'a"bc', 'plain'],
      ['3', 'x"y', 'z'],
    ]);
    expect(parseCsv(TRICKY['embedded newlines (LF and CRLF) inside quotes']).rows.map((r) => r[1])).toEqual(['two\nlines', 'crlf\r\ninside', 'c']);
    expect(parseCsv(TRICKY['embedded newlines (LF and CRLF) inside quotes']).lines).toEqual([2, 4, 6]);
    expect(parseCsv(TRICKY['a UTF-8 byte-order mark']).header[0]).toBe('id');
    expect(parseCsv(TRICKY['CRLF line ends and a blank line']).lines).toEqual([2, 4, 5]);
  });

  it.each([
    ['a ragged row', 'a,b\n1,2\n3\n', 'data/t.csv:3: the row has 1 fields but the header has 2 (1 missing)'],
    ['an unclosed quote', 'a,b\n1,"2\n', 'data/t.csv:2: a quoted field is never closed'],
    ['a repeated header name', 'a,a\n1,2\n', 'data/t.csv:1: the header names the column "a" twice'],
  ])('%s is refused with the same message in both paths', (_, text, message) => {
    expect(() => parseCsv(text, 'data/t.csv')).toThrow(message);
    expect(() => loadTable(new TextEncoder().encode(text), { file: 'data/t.csv' })).toThrow(message);
  });
});

describe('a tricky CSV through training and through a request body', () => {
  it('trains on categories with commas, quotes and a BOM, and a text/csv body written the same way predicts as JSON does', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bramble-csv-serve-'));
    const repo = join(root, 'repo');
    mkdirSync(join(repo, 'data'), { recursive: true });
    const shades = ['red, dark', 'say "blue"', 'plain'];
    const rows = Array.from({ length: 150 }, (_, i) => {
      const shade = shades[i % 3];
      return `${i % 11},"${shade.replace(/"/g, '""')}",${i % 3 === 0 || i % 11 > 7 ? 'yes' : 'no'}`;
    });
    writeFileSync(join(repo, 'data/train.csv'), `\uFEFFsize,shade,label\r\n${rows.join('\r\n')}\r\n`);
    writeFileSync(
      join(repo, 'ml.yaml'),
      ['name: shades', 'task: classification', 'data:', '  train: data/train.csv', '  target: label', 'features:', '  - onehot: [shade]', 'model:', '  type: random-forest', '  params: { trees: 5 }', 'split: { test: 0.2, seed: 1 }'].join('\n') + '\n',
    );
    const result = await runPipeline(repo, { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } });
    const text = readFileSync(result.artifact?.path ?? '', 'utf8');
    const onehot = (JSON.parse(text) as { features: { steps: { kind: string; categories?: string[] }[] } }).features.steps.find((s) => s.kind === 'onehot');
    // Training read each quoted field whole: three shades, commas and quotes kept.
    expect(onehot?.categories?.slice().sort()).toEqual(shades.slice().sort());

    const config = checkServeConfig({ listen: { host: '127.0.0.1', port: 0 }, models: 'models', log: { dir: 'logs' }, environments: { prod: { path: '/prod' } } }, 'serve.json', root);
    const server = await buildServer(config, { env: {}, version: 'test', warn: () => {} });
    try {
      await writeCandidate(config.models, 'prod', text, { name: 'shades', version: 'v1.0.0', sha256: (JSON.parse(text) as { sha256: string }).sha256 });
      expect((await server.inject({ method: 'POST', url: '/admin/deploy/prod' })).status).toBe(200);
      const records = shades.map((shade, i) => ({ size: i * 4, shade }));
      const body = `\uFEFFsize,shade\r\n${records.map((r) => `${r.size},"${r.shade.replace(/"/g, '""')}"`).join('\r\n')}\r\n`;
      const fromCsv = await server.inject({ method: 'POST', url: '/prod/invocations', headers: { 'content-type': 'text/csv' }, body });
      const fromJson = await server.inject({ method: 'POST', url: '/prod/invocations', body: { dataframe_records: records } });
      expect(fromCsv.status).toBe(200);
      expect(JSON.parse(fromCsv.body)).toEqual(JSON.parse(fromJson.body));
    } finally {
      await server.close();
    }
  });
});
