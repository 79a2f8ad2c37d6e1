// The compare action: the candidate against the champion on the same held-out rows, the gates, and the report —
// one sticky comment on the pull request and the job summary. A failed gate fails the step, and so the check.
import { renderReport } from '../report/render.js';
import { REPORT } from '../report/view.js';
import { compare } from '../usecases/compare.js';
import { runAction, StepFailure, validationAnnotations } from './common.js';
import { invalidData, verdictLine } from './summaries.js';

const FORK_NOTE =
  'this pull request comes from a fork, whose token is read-only: the report is in the job summary, not in a comment';

await runAction('compare', async ({ platform, inputs, flag, ports, output }) => {
  const { runUrl: url, sha, ref, pullRequest } = platform.context();
  const { dir, candidate, champion, 'champion-env': championEnv } = inputs;
  const request = { dir, candidate: candidate || undefined, champion: champion || undefined, championEnv };
  const result = await compare({ ...request, report: { run: { url, sha, ref }, fetch: true } }, ports);
  platform.annotate(validationAnnotations(dir, result.validation));
  if (!result.gates || !result.report) throw invalidData(result.validation, 'compared');
  await platform.summary(renderReport(result.report, REPORT.summaryLimit).markdown);
  // A fork's pull request has a read-only token: the report stays in the summary; the check still tells the gates.
  const fork = pullRequest?.fork === true;
  if (fork && flag('comment')) platform.info(FORK_NOTE);
  const comment = flag('comment') && !fork ? renderReport(result.report, REPORT.commentLimit).markdown : null;
  const posted = comment === null ? null : await platform.upsertComment(REPORT.marker(result.config.name), comment);
  const verdict = verdictLine(result.gates);
  const [passed, commentUrl] = [String(result.gates.passed), posted?.url ?? ''];
  output({ passed, verdict, 'champion-version': result.champion?.version ?? '', 'comment-url': commentUrl });
  const where = `the job summary${posted ? ' and on the pull request' : ''}`;
  if (!result.gates.passed) throw new StepFailure(`${result.config.name}: ${verdict} See the report in ${where}.`);
});
