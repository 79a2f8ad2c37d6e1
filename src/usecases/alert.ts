// What the monitor does about its result, as ml.yaml's monitor.on_alert says: `issue` keeps one issue per model and
// environment (opened on the first alert, updated on every alerting run, closed with a comment when a run finds the
// model healthy); `retrain` dispatches the model's pipeline once per alert episode. Without a platform (a terminal)
// nothing is called, and the outcome says what would have been done.
//
// Decisions:
// - An alert episode runs from the first alerting run after a healthy one (or after no recorded run) to the next
//   healthy run. The retrain is dispatched by the episode's first run only: a daily schedule that alerts three days
//   running trains once, and the issue says when. The history is the recorded runs before this one, oldest first.
// - The retrain is dispatched before the issue is written, so the issue links the run it started.
// - A healthy run closes the issue only when on_alert has `issue`: without it the job may lack `issues: write`.
import { ALERT, alertBody, alertMarker, alertTitle, healthyComment, type PerformanceBound, type RetrainNote } from '../monitor/alert.js';
import type { MonitorResult } from '../monitor/windows.js';
import type { Ports } from './ports.js';

export interface AlertInput {
  name: string;
  env: string;
  /** ml.yaml's monitor.on_alert. */
  onAlert: readonly ('issue' | 'retrain')[];
  result: MonitorResult;
  /** Earlier recorded runs of this model and environment, oldest first (this run, if recorded already, is left out). */
  history: readonly MonitorResult[];
  /** What a retrain runs: the workflow (GitHub: its file name) on a branch. */
  retrain: { ref: string; workflow: string };
  /** ml.yaml's monitor.performance, for the issue's title ("roc_auc 0.71 < 0.78"). */
  performance?: PerformanceBound | null;
}

export interface AlertOutcome {
  healthy: boolean;
  /** The issue written or closed; null when none was (healthy with none open, on_alert without issue, no platform). */
  issue: { url: string | null; number: number; created: boolean; closed: boolean } | null;
  /** Null when on_alert has no `retrain` or the result is healthy. */
  retrain: { dispatched: boolean; url: string | null; why: string } | null;
  /** What would have been done, one line each, where there was no platform to do it on. */
  planned: string[];
}

/** When the current alert episode began: this run's time, or the first alerting run's after the last healthy one. */
function episodeStart(result: MonitorResult, history: readonly MonitorResult[]): { first: boolean; at: string } {
  let at = result.ranAt;
  for (let i = history.length - 1; i >= 0; i--) {
    if (history[i].healthy) break;
    at = history[i].ranAt;
  }
  return { first: at === result.ranAt, at };
}

export async function actOnMonitor(input: AlertInput, ports: Pick<Ports, 'platform' | 'log'>): Promise<AlertOutcome> {
  const { result, onAlert } = input;
  const platform = ports.platform;
  const history = input.history.filter((h) => h.ranAt !== result.ranAt);
  const marker = alertMarker(input.name, input.env);
  const outcome: AlertOutcome = { healthy: result.healthy, issue: null, retrain: null, planned: [] };

  if (result.healthy) {
    if (!onAlert.includes('issue')) return outcome;
    const closed = platform ? await platform.closeIssue(marker, healthyComment(result), [ALERT.label]) : null;
    if (closed) {
      outcome.issue = { url: closed.url, number: closed.number, created: false, closed: true };
      ports.log.info(`closed the monitor issue #${closed.number} of ${input.name} in ${input.env}: healthy again`);
    } else if (!platform || platform.name === 'local') {
      outcome.planned.push(`would close the open issue labelled ${ALERT.label} of ${input.name} in ${input.env}, if there is one`);
    }
    return outcome;
  }

  let note: RetrainNote = { kind: 'off' };
  if (onAlert.includes('retrain')) {
    const episode = episodeStart(result, history);
    const { ref, workflow } = input.retrain;
    if (!episode.first) {
      note = { kind: 'earlier', at: episode.at };
      outcome.retrain = { dispatched: false, url: null, why: `dispatched once per alert: this alert began at ${episode.at}` };
    } else {
      const dispatched = platform ? await platform.dispatchPipeline({ ref, workflow, inputs: { retrain: input.env } }) : null;
      if (dispatched) {
        note = { kind: 'dispatched', at: result.ranAt, url: dispatched.url, workflow, ref };
        outcome.retrain = { dispatched: true, url: dispatched.url, why: 'the first alerting run since the model was healthy' };
        ports.log.info(`dispatched a retrain of ${input.name}: ${workflow} on ${ref}${dispatched.url ? ` (${dispatched.url})` : ''}`);
      } else {
        note = { kind: 'planned', workflow, ref };
        outcome.retrain = { dispatched: false, url: null, why: 'no platform to dispatch it on' };
        outcome.planned.push(`would dispatch ${workflow} on ${ref} with the input retrain=${input.env}`);
      }
    }
  }

  if (onAlert.includes('issue')) {
    const title = alertTitle(result, input.performance ?? null);
    const body = alertBody(result, history, note);
    const written = platform ? await platform.upsertIssue({ marker, title, body, labels: [ALERT.label] }) : null;
    if (written) {
      outcome.issue = { url: written.url, number: written.number, created: written.created, closed: false };
      ports.log.info(`${written.created ? 'opened' : 'updated'} the monitor issue #${written.number}: ${title}`);
    } else {
      outcome.planned.push(`would open or update the issue "${title}" (label ${ALERT.label})`);
    }
  }
  return outcome;
}
