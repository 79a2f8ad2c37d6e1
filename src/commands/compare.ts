// bramble compare: two saved models on the same held-out rows, ml.yaml's gates, and with --report the Markdown
// report a pull request's comment shows.
import { writeFileAtomic } from '../fs/atomic.js';
import { renderReport } from '../report/render.js';
import { REPORT } from '../report/view.js';
import { compare } from '../usecases/compare.js';
import { UsageError } from '../usecases/options.js';
import { checkOutFile, cliPorts, defineCommand, print } from './command.js';
import { compareReport } from './pipeline-text.js';

export const HELP = `bramble compare — score two saved models on the same held-out rows of DIR's data and apply ml.yaml's gates

Usage: bramble compare [DIR] --candidate FILE --champion MODEL [--report FILE] [--json]

MODEL is a model.json, a registered version (churn@v1.2.0) or an environment (prod). Both are scored on the
held-out rows neither trained on (each model records its training rows).

Options:
  --report FILE  also write the report a pull request's comment shows (Markdown: the verdict, metrics, confusion
                 matrix, importances, the registry's metric history, drift, lineage and parameters)

Exit codes: 0 every gate passed, 1 a gate or validation failed, 2 configuration or data error.
`;

export const command = defineCommand({
  name: 'compare',
  help: HELP,
  options: { candidate: { type: 'string' }, champion: { type: 'string' }, report: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { max: 1, what: 'folder' },
  async run({ values, positionals }, io) {
    if (!values.candidate || !values.champion) {
      throw new UsageError('bramble compare needs --candidate FILE (a model.json) and --champion MODEL (a model.json, churn@v1.2.0 or an environment); see bramble compare --help');
    }
    if (values.report) checkOutFile('report', values.report);
    const report = values.report ? { run: { url: null, sha: null, ref: null }, fetch: false } : undefined;
    const request = { dir: positionals[0] ?? '.', candidate: values.candidate, champion: values.champion, report };
    const result = await compare(request, cliPorts(io));
    // No comparison (the data failed validation) is what the printed validation says; the report needs one.
    if (values.report && result.report) await writeFileAtomic(values.report, renderReport(result.report, REPORT.commentLimit).markdown);
    const scored = result.compared ?? { config: result.config, validation: result.validation };
    print(io, values.json, scored, compareReport(scored));
    return result.validation.success && (result.gates?.passed ?? false) ? 0 : 1;
  },
});
