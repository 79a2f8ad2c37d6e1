// The compare action: the candidate against the champion on the same held-out rows, the gates, and the report —
// one sticky comment on the pull request and the job summary. A failed gate fails the step, and so the check.
import { runAction } from './common.js';
import { compareStep } from './steps.js';

const FORK_NOTE =
  'this pull request comes from a fork, whose token is read-only: the report is in the job summary, not in a comment';

await runAction('compare', async (step) => {
  // A fork's pull request has a read-only token: the report stays in the summary; the check still tells the gates.
  const fork = step.platform.context().pullRequest?.fork === true;
  if (fork && step.flag('comment')) step.platform.info(FORK_NOTE);
  const comment = step.flag('comment') && !fork;
  await compareStep(step, { comment, always: 'the job summary', commented: 'the pull request' });
});
