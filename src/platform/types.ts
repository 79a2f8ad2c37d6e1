// The platform adapter: what a step needs from where it runs — GitHub Actions, GitLab CI, or a terminal — behind
// one small interface, so that the engine's steps run the same everywhere. The engine never reads process.env or
// calls an API itself; the edge builds an adapter and passes it in.

/** What started the run, reduced to what the steps decide on. */
export interface EventContext {
  /** pull_request, push (a branch), tag (a pushed tag), dispatch (workflow_dispatch), schedule, or local. */
  kind: 'pull_request' | 'push' | 'tag' | 'dispatch' | 'schedule' | 'local';
  /** owner/name, or null outside a hosted repository. */
  repository: string | null;
  /** The commit the run is for. */
  sha: string | null;
  /** The branch (push), the tag name (tag), or the PR's head branch. */
  ref: string | null;
  /** Pull requests: the number, the base branch, and whether the head is in a fork (never trusted with secrets). */
  pullRequest: { number: number; base: string; head: string; fork: boolean } | null;
  /** Who triggered the run. */
  actor: string | null;
  /** A link to this run, for reports. */
  runUrl: string | null;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  message: string;
  file?: string;
  line?: number;
  col?: number;
  title?: string;
}

export interface DeploymentRequest {
  environment: string;
  /** The git ref or sha deployed (GitHub records it). */
  ref: string;
  description: string;
  /** The environment's URL, shown on the repository's Environments page. */
  url?: string;
}

export interface DeploymentHandle {
  /** The platform's id for the record, or null where there is none (the terminal). */
  id: number | string | null;
  finish(state: 'success' | 'failure', description: string, url?: string): Promise<void>;
}

/**
 * What a promotion to an environment asks of the platform when ml.yaml says `approval: true`: that a person must
 * approve it there. `tagPrefix` is what every assignment tag of the environment begins with (`churn#prod#`), whatever
 * its counter.
 */
export interface ApprovalQuery {
  environment: string;
  tagPrefix: string;
}

/**
 * The platform's answer: what makes a person approve (a GitHub environment's required reviewers, a tag ruleset that
 * lets only its bypass list create the tags), or what was found instead, one finding per place looked at, and
 * optionally what to do about it in the platform's own words (default: GitHub's settings).
 */
export type ApprovalVerdict = { approved: true; by: string } | { approved: false; findings: string[]; fix?: string };

/** Where a comment goes when it is not the run's own pull request: a retrain run comments on the one it opened. */
export interface CommentTarget {
  pullRequest: number;
}

export interface IssueRequest {
  /** A hidden HTML comment (`<!-- bramble-monitor:churn:prod -->`) that finds the issue again. */
  marker: string;
  title: string;
  body: string;
  labels: readonly string[];
}

export interface IssueResult {
  url: string | null;
  number: number;
  created: boolean;
}

export interface PipelineDispatch {
  /** The branch to run on. */
  ref: string;
  /** GitHub: the workflow's file name (ml.yml) or id; GitLab ignores it (the project's pipeline runs). */
  workflow: string;
  inputs: Readonly<Record<string, string>>;
}

export interface PullRequestRequest {
  head: string;
  base: string;
  title: string;
  body: string;
}

export interface Platform {
  readonly name: 'github' | 'gitlab' | 'local';
  context(): EventContext;
  /**
   * The one report comment of a pull request, found by `marker` (a hidden HTML comment, searched through every
   * page of comments) and updated in place, or created when there is none. null when there is no pull request.
   * `target` names the pull request when it is not the run's own (a dispatched run has none in its event).
   */
  upsertComment(marker: string, body: string, target?: CommentTarget): Promise<{ url: string | null; created: boolean } | null>;
  /**
   * The one open issue carrying `marker` (a hidden HTML comment; searched through every page of open issues with
   * the labels), updated in place, or created with `labels`; null where there are no issues (the terminal).
   */
  upsertIssue(issue: IssueRequest): Promise<IssueResult | null>;
  /** Comments on and closes the open issue carrying `marker`; null when none is open (or no issues here). */
  closeIssue(marker: string, comment: string, labels: readonly string[]): Promise<{ url: string | null; number: number } | null>;
  /**
   * Runs the model pipeline again: GitHub a workflow_dispatch of `workflow` (a file name such as ml.yml) on `ref`
   * with `inputs`; GitLab a new pipeline on `ref` with the inputs as variables. Null in a terminal.
   */
  dispatchPipeline(request: PipelineDispatch): Promise<{ url: string | null } | null>;
  /** Opens a pull (merge) request from head to base, or finds the open one from head. Null in a terminal. */
  openPullRequest(request: PullRequestRequest): Promise<{ number: number; url: string | null; created: boolean } | null>;
  /** Appends Markdown to the run's summary (GitHub: $GITHUB_STEP_SUMMARY; terminal: standard output). */
  summary(markdown: string): Promise<void>;
  /** Problems shown on files and lines; at most 10 of each level per step, then one line saying how many more. */
  annotate(annotations: readonly Annotation[]): void;
  /** A deployment record and its statuses: in_progress now, then success or failure. */
  startDeployment(request: DeploymentRequest): Promise<DeploymentHandle>;
  /**
   * The newest deployment already recorded for this ref and environment (a promotion records one when it pushes
   * its tag), continued with an in_progress status; a new one when there is none.
   */
  continueDeployment(request: DeploymentRequest): Promise<DeploymentHandle>;
  /** Whether a person must approve what is promoted to an environment; API failures other than "not set up" throw. */
  checkApproval(query: ApprovalQuery): Promise<ApprovalVerdict>;
  setOutput(name: string, value: string): void;
  info(message: string): void;
}
