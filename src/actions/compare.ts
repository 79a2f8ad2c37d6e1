// The compare action: the candidate against the champion on the same held-out rows, the gates, and the report —
// one sticky comment on the pull request and the job summary. A failed gate fails the step, and so the check.
import { join } from 'node:path';
import { readMlYaml } from '../config/ml-yaml.js';
import { formatVerdict } from '../model/compare.js';
import { renderReport } from '../report/render.js';
import { REPORT, reportView } from '../report/view.js';
import { defaultArtifact, registryFacts, runAction, scoreCandidate, StepFailure, validationAnnotations } from './common.js';

await runAction('compare', async ({ platform, inputs, flag, env, output }) => {
  const config = await readMlYaml(join(inputs.dir, 'ml.yaml'));
  const facts = await registryFacts(inputs.dir, config, inputs.champion ? '' : inputs['champion-env'], env, (m) => platform.info(`warning: ${m}`));
  const scored = await scoreCandidate(inputs.dir, inputs.candidate || defaultArtifact(inputs.dir), inputs.champion || facts.champion?.file || null);
  platform.annotate(validationAnnotations(inputs.dir, scored.validation));
  if (!scored.candidate || !scored.gates) throw new StepFailure(`${scored.validation.file} failed validation, so nothing was compared; see the annotations`);
  const { runUrl, sha, ref } = platform.context();
  const view = reportView({
    model: config.name,
    candidate: { ...scored.candidate, validation: scored.validation },
    champion: scored.champion && { ...scored.champion, version: facts.champion?.version ?? null, env: facts.champion?.env ?? '' },
    gates: scored.gates,
    drift: scored.drift,
    history: facts.history,
    run: { url: runUrl, sha, ref },
  });
  await platform.summary(renderReport(view, REPORT.summaryLimit).markdown);
  // A fork's pull request runs with a read-only token: the report stays in the job summary, and the check still
  // says whether the gates passed.
  const fork = platform.context().pullRequest?.fork === true;
  if (fork && flag('comment')) platform.info('this pull request comes from a fork, whose token is read-only: the report is in the job summary, not in a comment');
  const posted = flag('comment') && !fork ? await platform.upsertComment(REPORT.marker(config.name), renderReport(view, REPORT.commentLimit).markdown) : null;
  const verdict = formatVerdict(scored.gates).split('\n').at(-1) ?? '';
  output({ passed: String(scored.gates.passed), verdict, 'champion-version': facts.champion?.version ?? '', 'comment-url': posted?.url ?? '' });
  if (!scored.gates.passed) throw new StepFailure(`${config.name}: ${verdict} See the report in the job summary${posted ? ' and on the pull request' : ''}.`);
});
