// The retrain action: what a monitor alert dispatches (`retrain: ENV`) and what ml.yaml's monitor.retrain.schedule
// starts — a branch from the first environment's branch with a commit saying why, a pull request from it, and the
// candidate trained and compared there with the report on that pull request. A pull request opened with the job's
// token starts no workflow run (GitHub's rule), so this step produces the report itself.
import { workersOption } from '../usecases/options.js';
import { runAction } from './common.js';
import { retrainStep } from './steps.js';

await runAction('retrain', (step) =>
  retrainStep(step, { comment: true, always: 'the job summary', commented: 'the pull request' }, {
    // A re-run keeps the run's id and counts attempts: the second attempt's branch is DATE-ID.2.
    id: attemptId(process.env.GITHUB_RUN_ID || String(Date.now()), process.env.GITHUB_RUN_ATTEMPT),
    workers: workersOption(step.inputs.workers, 'the input workers'),
    now: new Date(),
  }),
);

function attemptId(run: string, attempt: string | undefined): string {
  return attempt === undefined || attempt === '' || attempt === '1' ? run : `${run}.${attempt}`;
}
