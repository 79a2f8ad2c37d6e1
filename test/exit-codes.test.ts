// Exit codes mean what they say: every mistake a user can make exits 2 with one located line that names the file
// or field, the value and the fix; exit 3 ("This is a bug in Bramble") is kept for Bramble's own bugs. Each row
// runs the built CLI on real files in a fresh folder, the way a new user would.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealArtifact } from '../src/model/artifact.js';
import { listenError } from '../src/serve/server.js';
import { billingFeatures } from './helpers/store-repo.js';
import { bramble, CLI } from './helpers/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'bramble-exit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** 13 numeric inputs and the target: the 14 columns the agreed CSV messages speak of. */
const COLUMNS = [...Array.from({ length: 13 }, (_, k) => `f${k + 1}`), 'label'];
const row = (i: number): string[] => [...Array.from({ length: 13 }, (_, k) => String(((i + 1) * (k + 3) * 7919) % 1000)), i % 2 === 0 ? 'yes' : 'no'];
const CSV = [COLUMNS.join(','), ...Array.from({ length: 200 }, (_, i) => row(i).join(','))].join('\n') + '\n';
/** The CSV with line `line` (1-based, the header is line 1) replaced. */
const csvWithLine = (line: number, text: string): string => CSV.split('\n').map((l, i) => (i === line - 1 ? text : l)).join('\n');

const mlYaml = (train = 'data/train.csv', extra = ''): string =>
  ['name: exits', 'task: classification', 'data:', `  train: ${train}`, '  target: label', 'model:', '  type: random-forest', '  params: { trees: 3 }', 'split: { test: 0.25, seed: 1 }', 'environments:', '  prod: { branch: main }', extra].join('\n') + '\n';

const serveJson = (listen: { host?: string; port: number }, environments: Record<string, unknown> = { prod: { path: '/prod' } }, models = 'models'): string =>
  JSON.stringify({ listen: { host: '127.0.0.1', ...listen }, models, log: { dir: 'logs' }, environments });

/** A YAML alias bomb: each level repeats the one before nine times. */
const ALIAS_BOMB = ['a: &a [x,x,x,x,x,x,x,x,x]', ...['b', 'c', 'd', 'e', 'f'].map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcde'[i]}`).join(',')}]`)].join('\n') + '\n';

type Files = Record<string, string | Buffer | null>;
interface Row {
  /** The files of the folder the command runs in; null makes a folder. */
  files: Files;
  args: string[];
  /** The last line of stderr, exactly; or its start and a phrase it must contain. */
  message: string | { startsWith: string; includes: string };
}

/** Things a row's files need that exist only once the tests run: the model, and ports taken by another process. */
const shared = { model: '', busyPort: 0 };
let busy: Server;
beforeAll(async () => {
  const dir = join(scratch, 'trained');
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'ml.yaml'), mlYaml());
  writeFileSync(join(dir, 'data/train.csv'), CSV);
  const r = bramble(['run', dir]);
  expect(r.stderr).toBe('');
  shared.model = join(dir, '.bramble/model.json');
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  shared.busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

const repo = (files: Files = {}): Files => ({ 'ml.yaml': mlYaml(), 'data/train.csv': CSV, ...files });

/** Rows are built lazily: some need the trained model's path or the busy port. */
const ROWS: Array<[string, () => Row]> = [
  // ml.yaml as YAML
  ['a YAML alias bomb in ml.yaml', () => ({ files: { 'ml.yaml': ALIAS_BOMB }, args: ['run', '.'], message: 'bramble: ml.yaml:2:8: aliases expand too far (more than 100); write the values out instead of repeating aliases' })],
  [
    'ml.yaml nested 10,000 brackets deep',
    () => ({
      files: { 'ml.yaml': `name: x\nfeatures: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n` },
      args: ['run', '.'],
      // The top mapping is level 1; the 64th "[" (column 11 + 63) opens level 65.
      message: 'bramble: ml.yaml:2:74: nested too deep (limit 64); ml.yaml is never that deep — check the brackets',
    }),
  ],
  [
    'ml.yaml nested 10,000 block sequences deep',
    () => ({ files: { 'ml.yaml': `name: x\nfeatures:\n  ${'- '.repeat(10_000)}x\n` }, args: ['validate', '.'], message: 'bramble: ml.yaml:3:129: nested too deep (limit 64); ml.yaml is never that deep — check the indentation' }),
  ],
  ['an alias with no anchor in ml.yaml', () => ({ files: { 'ml.yaml': 'name: x\ntask: *kind\n' }, args: ['run', '.'], message: 'bramble: ml.yaml:2:7: the alias *kind has no anchor &kind before it; put the anchor on a value above, or write the value out' })],
  ['a list used as a key in ml.yaml', () => ({ files: { 'ml.yaml': 'name: x\n[a, b]: 1\n' }, args: ['run', '.'], message: 'bramble: ml.yaml:2:1: a key is a list; keys in ml.yaml are plain names, such as model or trees' })],
  ['an empty ml.yaml', () => ({ files: { 'ml.yaml': '' }, args: ['run', '.'], message: 'bramble: ml.yaml:1:1: is empty; an ml.yaml needs at least the keys name, task, data and model' })],
  ['an ml.yaml that is a list', () => ({ files: { 'ml.yaml': '- a\n- b\n' }, args: ['run', '.'], message: 'bramble: ml.yaml:1:1: must be a mapping (got a list); an ml.yaml needs at least the keys name, task, data and model' })],
  ['an ml.yaml that is a folder', () => ({ files: { 'ml.yaml': null }, args: ['run', '.'], message: { startsWith: 'bramble: ml.yaml: is a folder', includes: 'ml.yaml must be a file' } })],
  ['a folder with no ml.yaml', () => ({ files: {}, args: ['run', 'nowhere'], message: 'bramble: nowhere/ml.yaml: not found; every model repository needs an ml.yaml at its root (see templates/model-repo/ml.yaml)' })],
  ['two documents in ml.yaml', () => ({ files: { 'ml.yaml': 'a: 1\n---\nb: 2\n' }, args: ['run', '.'], message: { startsWith: 'bramble: ml.yaml:2:1: ', includes: 'multiple documents' } })],

  // features.yaml (bramble ingest)
  [
    'a feature view whose ttl is zero',
    () => ({
      files: { 'features.yaml': billingFeatures('billing', '{ path: data/billing.csv }').replace('ttl: 30d', 'ttl: 0d') },
      args: ['ingest', '.'],
      message: { startsWith: 'bramble: features.yaml:12:10 views.billing.ttl: must be longer than 0 (got "0d")', includes: 'give a duration such as 30d' },
    }),
  ],
  ['a folder with no features.yaml', () => ({ files: {}, args: ['ingest', '.'], message: { startsWith: 'bramble: ', includes: 'features.yaml: not found; a features repository has a features.yaml at its root' } })],

  // Data
  [
    'a CSV row with 2 extra fields',
    () => ({ files: repo({ 'data/train.csv': csvWithLine(50, [...row(48), '1', '2'].join(',')) }), args: ['run', '.'], message: 'bramble: data/train.csv:50: the row has 16 fields but the header has 14 (2 extra); quote fields that contain commas' }),
  ],
  [
    'a CSV row with 2 missing fields',
    () => ({
      files: repo({ 'data/train.csv': csvWithLine(50, row(48).slice(2).join(',')) }),
      args: ['run', '.'],
      message: 'bramble: data/train.csv:50: the row has 12 fields but the header has 14 (2 missing); add the missing fields (an empty field is a missing value)',
    }),
  ],
  ['a header-only CSV', () => ({ files: repo({ 'data/train.csv': COLUMNS.join(',') + '\n' }), args: ['run', '.'], message: 'bramble: data/train.csv has no data rows, only a header; add rows' })],
  ['an empty CSV', () => ({ files: repo({ 'data/train.csv': '' }), args: ['run', '.'], message: 'bramble: data/train.csv is empty; it needs a header row' })],
  ['a quoted CSV field that is never closed', () => ({ files: repo({ 'data/train.csv': csvWithLine(3, '"1' + ',2'.repeat(13)) }), args: ['run', '.'], message: 'bramble: data/train.csv:3: a quoted field is never closed; add the closing "' })],
  [
    'a Parquet file named .csv',
    () => ({
      files: repo({ 'data/train.csv': Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64), Buffer.from('PAR1')]) }),
      args: ['run', '.'],
      message: 'bramble: data/train.csv is not a CSV file (it looks like Parquet); rename it to .parquet',
    }),
  ],
  ['a file named .bramble where run writes the model', () => ({ files: repo({ '.bramble': 'notes\n' }), args: ['run', '.'], message: { startsWith: 'bramble: .bramble', includes: 'is a file' } })],
  ['a folder named .bramble/model.json', () => ({ files: repo({ '.bramble/model.json': null }), args: ['run', '.'], message: { startsWith: 'bramble: .bramble/model.json', includes: 'is a folder' } })],
  [
    'features that drop every input',
    () => ({
      files: repo({ 'ml.yaml': mlYaml('data/train.csv', `features:\n  - drop: [${COLUMNS.slice(0, 13).join(', ')}]`) }),
      args: ['run', '.'],
      message: { startsWith: 'bramble: features: no input column is left for the model (drop removes f1, f2, f3,', includes: 'keep at least one column besides the target and the id' },
    }),
  ],
  [
    'a derive that divides by zero on a training row',
    () => ({
      files: repo({ 'ml.yaml': mlYaml('data/train.csv', 'features:\n  - derive: { z: "d => d.f1 / 0" }') }),
      args: ['run', '.'],
      message: { startsWith: 'bramble: ml.yaml features[0].derive.z: "d => d.f1 / 0" gives Infinity on a training row', includes: 'guard it' },
    }),
  ],
  ['ml.yaml that cannot be read as a file', () => ({ files: { 'ml.yaml': null }, args: ['validate', '.'], message: 'bramble: ml.yaml: is a folder; ml.yaml must be a file (see templates/model-repo/ml.yaml)' })],
  ['forest train --drop of every input', () => ({ files: { 'd.csv': 'a,b,y\n1,2,x\n3,4,z\n' }, args: ['forest', 'train', '--data', 'd.csv', '--target', 'y', '--drop', 'a,b'], message: 'bramble: d.csv: no input column is left besides the target "y" (--drop removes "a", "b"); keep at least one' })],
  ['a data.train that does not exist', () => ({ files: repo({ 'ml.yaml': mlYaml('data/nope.csv') }), args: ['run', '.'], message: 'bramble: the data file data/nope.csv does not exist; check data.train in ml.yaml' })],
  [
    'JSON data nested 100,000 deep',
    () => ({
      files: repo({ 'ml.yaml': mlYaml('data/t.json'), 'data/t.json': `[{"f1": ${'['.repeat(100_000)}${']'.repeat(100_000)}, "label": "yes"}]` }),
      args: ['run', '.'],
      message: { startsWith: 'bramble: data/t.json:', includes: 'nested too deep (limit 64)' },
    }),
  ],
  [
    'a derive expression nested 50,000 deep',
    () => ({
      files: repo({ 'ml.yaml': mlYaml('data/train.csv', `features:\n  - derive: { z: "${'('.repeat(50_000)}d.f1${')'.repeat(50_000)}" }`) }),
      args: ['run', '.'],
      message: { startsWith: 'bramble: ml.yaml features[0].derive.', includes: 'nested too deep (limit 256)' },
    }),
  ],

  // Models
  ['predict with a model that is not JSON', () => ({ files: repo({ 'm.json': 'not json\n' }), args: ['predict', '--model', 'm.json', 'data/train.csv'], message: 'bramble: m.json is not JSON (it starts with "not json\\n"); is it a Bramble model?' })],
  [
    'predict with a model that is sealed but breaks the model schema (predict used to skip the check the server made)',
    () => {
      const { sha256: _old, signature: _dropped, ...body } = JSON.parse(readFileSync(shared.model, 'utf8')) as Record<string, unknown>;
      return {
        files: repo({ 'm.json': sealArtifact(body).text }),
        args: ['predict', '--model', 'm.json', 'data/train.csv'],
        message: 'bramble: m.json#/signature: is missing; a model artifact needs it',
      };
    },
  ],
  ['predict with a model whose sha256 was taken out', () => ({ files: repo({ 'm.json': '{"format":"bramble-model","version":1}' }), args: ['predict', '--model', 'm.json', 'data/train.csv'], message: 'bramble: m.json has no sha256; it was not written by bramble run, or was edited — restore it from the registry' })],
  [
    'predict with another format of model',
    () => ({ files: repo({ 'm.json': '{"format":"sklearn","version":1}' }), args: ['predict', '--model', 'm.json', 'data/train.csv'], message: 'bramble: m.json has format "sklearn", not "bramble-model"; give a model written by bramble train or run' }),
  ],
  ['predict with a folder as the model', () => ({ files: repo({ models: null }), args: ['predict', '--model', 'models', 'data/train.csv'], message: 'bramble: the model models is a folder; give the path of a model.json' })],
  [
    'predict on a file without the columns the model reads',
    () => ({
      files: repo({ 'new.csv': 'f1,f2,label\n1,2,yes\n' }),
      args: ['predict', '--model', shared.model, 'new.csv'],
      message: {
        startsWith: 'bramble: new.csv has no columns ',
        includes: 'which the model reads; add them to the file (values may be blank, read as missing)',
      },
    }),
  ],
  [
    'predict on text in a numeric column',
    () => ({ files: repo({ 'new.csv': csvWithLine(3, ['abc', ...row(1).slice(1)].join(',')) }), args: ['predict', '--model', shared.model, 'new.csv'], message: 'bramble: new.csv:3: f1 is "abc", not a number; fix the value, or declare the column as category' }),
  ],

  // Flags
  ['--workers abc', () => ({ files: repo(), args: ['run', '.', '--workers', 'abc'], message: 'bramble: --workers is "abc"; give a number' })],
  ['an unknown option', () => ({ files: repo(), args: ['run', '.', '--bogus'], message: { startsWith: "bramble: Unknown option '--bogus'.", includes: '--bogus' } })],
  ['an unknown command', () => ({ files: {}, args: ['frobnicate'], message: 'bramble: unknown command "frobnicate"; run bramble --help for the list' })],
  ['forest train --out a folder', () => ({ files: repo({ out: null }), args: ['forest', 'train', '--data', 'data/train.csv', '--target', 'label', '--out', 'out'], message: `bramble: --out out is a folder; give a file name, such as ${join('out', 'model.json')}` })],
  [
    'forest train --out in a missing folder',
    () => ({ files: repo(), args: ['forest', 'train', '--data', 'data/train.csv', '--target', 'label', '--out', 'no/such/m.json'], message: 'bramble: --out no/such/m.json: the folder no/such does not exist; create it first (mkdir -p no/such)' }),
  ],

  // serve and deploy
  [
    'serve on a port already in use',
    () => ({
      files: { 'serve.json': serveJson({ port: shared.busyPort }) },
      args: ['serve', '--config', 'serve.json'],
      message: `bramble: port ${shared.busyPort} is in use (127.0.0.1:${shared.busyPort}); stop what listens there, or choose another port in serve.json`,
    }),
  ],
  [
    "serve with an environment's own port in use",
    () => ({
      files: { 'serve.json': serveJson({ port: 0 }, { prod: { port: shared.busyPort } }) },
      args: ['serve', '--config', 'serve.json'],
      message: `bramble: port ${shared.busyPort} is in use (127.0.0.1:${shared.busyPort}); stop what listens there, or choose another port in serve.json (environments.prod.port)`,
    }),
  ],
  [
    'serve on an address that is not this machine',
    () => ({
      // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a host's address.
      files: { 'serve.json': serveJson({ host: '192.0.2.1', port: 0 }) },
      args: ['serve', '--config', 'serve.json'],
      message: 'bramble: listen.host 192.0.2.1 is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its own addresses in serve.json',
    }),
  ],
  [
    'serve.json giving one port to two listeners',
    () => ({ files: { 'serve.json': serveJson({ port: 18_999 }, { prod: { port: 18_999 } }) }, args: ['serve', '--config', 'serve.json'], message: 'bramble: serve.json environments.prod.port: port 18999 is also listen.port; each listener needs its own port' }),
  ],
  [
    "serve.json giving an environment one of the server's own paths",
    () => ({
      files: { 'serve.json': serveJson({ port: 0 }, { prod: { path: '/metrics' } }) },
      args: ['serve', '--config', 'serve.json'],
      message: 'bramble: serve.json environments.prod.path: /metrics is the server\'s own (/metrics, /ping, /health, /version, /status, /admin, /v2, /ui); choose another, such as "/prod"',
    }),
  ],
  ['serve.json that is not JSON', () => ({ files: { 'serve.json': '{' }, args: ['serve', '--config', 'serve.json'], message: { startsWith: 'bramble: serve.json is not JSON: ', includes: 'JSON' } })],
  ['serve.json that is a folder', () => ({ files: { 'serve.json': null }, args: ['serve', '--config', 'serve.json'], message: 'bramble: the serve configuration serve.json is a folder; give a serve.json with --config (runner-pi/serve.json is an example)' })],
  [
    'serve with a file where the model folder should be',
    () => ({
      files: { 'serve.json': serveJson({ port: 0 }, undefined, 'models'), models: 'a file\n' },
      args: ['serve', '--config', 'serve.json'],
      message: { startsWith: 'bramble: the model folder ', includes: 'a file is in the way (ENOTDIR); set models in serve.json to a folder, or move the file' },
    }),
  ],
  [
    'deploy --server that is not a URL',
    () => ({ files: { ...repo(), 'serve.json': serveJson({ port: 0 }) }, args: ['deploy', 'exits@v1.0.0', '--env', 'prod', '--config', 'serve.json', '--server', 'notaurl'], message: 'bramble: --server is "notaurl"; give the server\'s base URL, such as http://127.0.0.1:8080' }),
  ],
];

function materialise(files: Files): string {
  const dir = mkdtempSync(join(scratch, 'case-'));
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    if (content === null) {
      mkdirSync(full, { recursive: true });
      continue;
    }
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

/** Exit 2, the message as the last line of stderr (a server may warn before it), and nothing that reads as a bug. */
function expectUserError(r: { status: number | null; stderr: string }, message: Row['message']): void {
  const last = r.stderr.trimEnd().split('\n').at(-1) ?? '';
  expect(r.stderr).not.toContain('This is a bug in Bramble');
  expect(r.stderr).not.toContain('    at ');
  if (typeof message === 'string') {
    expect(last).toBe(message);
  } else {
    expect(last.startsWith(message.startsWith), `${JSON.stringify(last)} starts with ${JSON.stringify(message.startsWith)}`).toBe(true);
    expect(last).toContain(message.includes);
  }
  expect(r.status).toBe(2);
}

describe('every user mistake exits 2 with a located message', () => {
  it.each(ROWS)('%s', (_name, build) => {
    const { files, args, message } = build();
    const cwd = materialise(files);
    // A timeout, so that a server that starts after all fails the row instead of hanging the suite.
    expectUserError(spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 30_000 }), message);
  });
});

describe('files the user running bramble may not read', () => {
  // Root reads every file, so as root the CLI runs as nobody, with the user dropped the way a service drops it.
  const root = process.getuid?.() === 0;
  const setpriv = '/usr/bin/setpriv';
  const command = (args: string[]): [string, string[]] =>
    root ? [setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  it.skipIf(process.platform === 'win32' || (root && !existsSync(setpriv))).each([
    ['serve.json', { 'serve.json': serveJson({ port: 0 }) }, ['serve', '--config', 'serve.json'], 'bramble: the serve configuration serve.json cannot be read (EACCES); let the user running bramble read it'],
    ['data/train.csv', repo(), ['validate', '.'], 'bramble: the data file data/train.csv cannot be read (permission denied); check its permissions'],
    ['ml.yaml', repo(), ['validate', '.'], { startsWith: 'bramble: ml.yaml', includes: 'cannot be read' }],
  ] as Array<[string, Files, string[], Row['message']]>)('an unreadable %s exits 2', (unreadable, files, args, message) => {
    const cwd = materialise(files);
    // mkdtemp makes folders only their owner may enter; nobody needs to reach the readable files.
    for (const dir of [scratch, cwd, join(cwd, 'data')]) if (existsSync(dir)) chmodSync(dir, 0o755);
    for (const file of Object.keys(files)) chmodSync(join(cwd, file), 0o644);
    chmodSync(join(cwd, unreadable), root ? 0o600 : 0o000);
    const [program, argv] = command(args);
    expectUserError(spawnSync(program, argv, { cwd, encoding: 'utf8', timeout: 30_000 }), message);
  });
});

describe('output that cannot be written', () => {
  // /dev/full fails every write with ENOSPC, as a full disk would.
  it.skipIf(!existsSync('/dev/full')).each([
    ['predict', () => ['predict', '--model', shared.model, join(scratch, 'trained/data/train.csv')]],
    ['forest train --json', () => ['forest', 'train', '--data', join(scratch, 'trained/data/train.csv'), '--target', 'label', '--trees', '2', '--json']],
    ['--help', () => ['--help']],
  ])('%s to a full disk exits 2 with one line', (_name, args) => {
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [CLI, ...args()], { encoding: 'utf8', stdio: ['ignore', full, 'pipe'], timeout: 30_000 });
      expect(r.stderr).toBe('bramble: the output cannot be written (ENOSPC: no space left on device, write); free some space, or send the output elsewhere\n');
      expect(r.status).toBe(2);
    } finally {
      closeSync(full);
    }
  });
});

describe('listenError', () => {
  // Binding a port below 1024 is refused only without privileges (not as root, and not where
  // ip_unprivileged_port_start is lowered), so the error is made here rather than by the system.
  it.each([
    ['EACCES', 80, 'listen.port', 'E_PORT_PRIVILEGED', 'port 80 needs privileges (127.0.0.1:80); choose a port from 1024 up in serve.json, or let the service bind low ports (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE)'],
    ['EADDRINUSE', 8080, 'listen.port', 'E_PORT_IN_USE', 'port 8080 is in use (127.0.0.1:8080); stop what listens there, or choose another port in serve.json'],
    ['EADDRINUSE', 8081, 'environments.prod.port', 'E_PORT_IN_USE', 'port 8081 is in use (127.0.0.1:8081); stop what listens there, or choose another port in serve.json (environments.prod.port)'],
  ])('names %s on port %i (%s)', (code, port, key, errorCode, message) => {
    const err = listenError(Object.assign(new Error(`listen ${code}`), { code }), '127.0.0.1', port, key);
    expect(err).toMatchObject({ code: errorCode, message, data: { host: '127.0.0.1', port, key } });
  });

  it('leaves an error it cannot explain to the top-level handler (exit 3)', () => {
    expect(listenError(Object.assign(new Error('listen EMFILE'), { code: 'EMFILE' }), '127.0.0.1', 8080, 'listen.port')).toBeUndefined();
  });
});
