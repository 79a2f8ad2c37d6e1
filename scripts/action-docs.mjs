// Generates the input and output tables of the GitHub actions from their action.yml files (the single source of
// truth), between the markers <!-- actions:begin --> and <!-- actions:end --> in docs/actions.md (every table) and
// in README.md (one line per action). Everything outside the markers is written by hand.
//   node scripts/action-docs.mjs           rewrites the generated parts
//   node scripts/action-docs.mjs --check   exits 1 when they differ from what the action.yml files give
//   --root <dir>                           another checkout (tests use it)
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The actions, in the order a pipeline runs them. */
export const ACTION_ORDER = ['validate', 'sweep', 'train', 'compare', 'register', 'promote', 'deploy', 'monitor', 'retrain'];

export const MARKERS = { begin: '<!-- actions:begin -->', end: '<!-- actions:end -->' };

/** How a model repository names an action (OWNER: the owner of the Bramble repository it uses). */
const usesOf = (step) => `OWNER/bramble/actions/${step}@v1`;

/** The action.yml files, parsed, by step. */
export function readActions(root = ROOT) {
  return ACTION_ORDER.map((step) => ({ step, action: parse(readFileSync(join(root, 'actions', step, 'action.yml'), 'utf8')) }));
}

/** docs/actions.md's generated part: each action's description, inputs and outputs. */
export function renderActionTables(actions) {
  const out = [];
  for (const { step, action } of actions) {
    out.push(`### ${step}`, '', `\`uses: ${usesOf(step)}\` — ${action.description}`, '');
    const inputs = Object.entries(action.inputs ?? {});
    if (inputs.length > 0) {
      out.push('| input | required | default | description |', '|---|---|---|---|');
      for (const [name, input] of inputs) {
        out.push(row([`\`${name}\``, input.required ? 'yes' : '', input.default === undefined || input.default === '' ? '' : `\`${input.default}\``, input.description]));
      }
      out.push('');
    }
    const outputs = Object.entries(action.outputs ?? {});
    if (outputs.length > 0) {
      out.push('| output | description |', '|---|---|');
      for (const [name, output] of outputs) out.push(row([`\`${name}\``, output.description]));
      out.push('');
    }
  }
  return out.join('\n').trimEnd();
}

/** README's generated part: a short section, one row per action with its inputs and outputs by name. */
export function renderActionSummary(actions) {
  const out = [
    '## GitHub actions',
    '',
    `A model repository calls the pipeline with \`uses: OWNER/bramble/.github/workflows/model-pipeline.yml@v1\` (the template's`,
    '`.github/workflows/ml.yml`), or uses the actions one by one. Tokens, forks, environments and releases:',
    '[docs/actions.md](docs/actions.md).',
    '',
    '| action | inputs | outputs |',
    '|---|---|---|',
  ];
  for (const { step, action } of actions) {
    const names = (o) => Object.keys(o ?? {}).map((n) => `\`${n}\``).join(', ');
    out.push(row([`[\`${step}\`](docs/actions.md#${step})`, names(action.inputs), names(action.outputs)]));
  }
  return out.join('\n');
}

function row(cells) {
  return `| ${cells.map((c) => String(c ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ')).join(' | ')} |`;
}

/** `text` with the part between the markers replaced; an error naming the file when they are missing. */
export function replaceBetweenMarkers(text, generated, file) {
  const begin = text.indexOf(MARKERS.begin);
  const end = text.indexOf(MARKERS.end);
  if (begin < 0 || end < begin) throw new Error(`${file} has no ${MARKERS.begin} … ${MARKERS.end} section; add the two markers where the tables go`);
  return `${text.slice(0, begin + MARKERS.begin.length)}\n${generated}\n${text.slice(end)}`;
}

/** The files the tables go into (relative to the checkout), and what goes into each. */
export const TARGETS = [
  { file: 'docs/actions.md', render: renderActionTables },
  { file: 'README.md', render: renderActionSummary },
];

/** Writes the generated parts, or with `check` only compares them; returns the files that were stale. */
export function syncActionDocs({ check = false, root = ROOT } = {}) {
  const actions = readActions(root);
  const stale = [];
  for (const { file, render } of TARGETS) {
    const text = readFileSync(join(root, file), 'utf8');
    const expected = replaceBetweenMarkers(text, render(actions), file);
    if (expected === text) continue;
    stale.push(file);
    if (!check) writeFileSync(join(root, file), expected);
  }
  return stale;
}

function main(argv) {
  const check = argv.includes('--check');
  const rootAt = argv.indexOf('--root');
  const root = rootAt >= 0 ? argv[rootAt + 1] : ROOT;
  if (rootAt >= 0 && !root) {
    console.error('--root needs a folder, the checkout holding actions/, docs/actions.md and README.md');
    return 2;
  }
  const stale = syncActionDocs({ check, root });
  if (check && stale.length > 0) {
    console.error(`stale action tables in ${stale.join(', ')}: they differ from what actions/*/action.yml give. Run \`node scripts/action-docs.mjs\` and commit the result.`);
    return 1;
  }
  if (!check) console.log(stale.length > 0 ? `wrote ${stale.join(', ')}` : 'the action tables are up to date');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
