// The monitor action: on the runner whose model host writes the prediction log, drift and live performance per
// window and version, the result recorded on the registry branch, and the alert answered as ml.yaml's
// monitor.on_alert says — the environment's issue, and a retrain dispatched to the workflow that runs this step.
import { ActionInputError, runAction } from './common.js';
import { monitorStep } from './steps.js';

await runAction('monitor', async (step) => {
  if (!step.inputs.env) {
    throw new ActionInputError("the input env is empty; name one of ml.yaml's environments to monitor");
  }
  const retrain = dispatchTarget(process.env);
  await monitorStep(step, { record: step.flag('record'), failOnAlert: step.flag('fail-on-alert'), retrain });
});

/**
 * The workflow a retrain is dispatched to, and its branch: the caller's workflow, which GITHUB_WORKFLOW_REF names
 * even inside a reusable workflow (owner/repo/.github/workflows/ml.yml@refs/heads/main).
 */
function dispatchTarget(env: NodeJS.ProcessEnv): { ref: string; workflow: string } {
  const ref = env.GITHUB_WORKFLOW_REF ?? '';
  const match = /^[^/]+\/[^/]+\/\.github\/workflows\/([^@]+)@(?:refs\/heads\/)?(.+)$/.exec(ref);
  if (match) return { workflow: match[1], ref: match[2] };
  return { workflow: 'ml.yml', ref: env.GITHUB_REF_NAME || 'main' };
}
