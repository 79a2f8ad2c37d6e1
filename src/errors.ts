// Decisions: every failure kind Bramble shows a person is one row of ERRORS: its code, the class that raises it,
// the exit code the CLI ends with, the HTTP status the server answers with, and a one-line fix. The CLI maps a
// thrown value to its exit code only through exitCodeOf, the server to its status only through httpStatusOf, and
// docs/errors.md is generated from the table (scripts/error-docs.mjs; test/error-catalog.test.ts keeps them in
// step). A class comes from the table through errorClass (one code) or errorFamily (a few codes that share one
// shape), so a code cannot be raised without a row, and each row names exactly one class.

/** The exit codes of the CLI: 1 a gate or check failed, 2 a person's mistake to fix, 3 a bug in Bramble. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3 } as const;

export interface ErrorSpec {
  /** The class that raises the code (its family, where several codes share one). */
  readonly class: string;
  readonly exit: (typeof EXIT)['failed' | 'usage'];
  /** What the server answers with; 500 where a request cannot cause it (the request sees "internal error"). */
  readonly http: number;
  /** One line: what to do about it. */
  readonly fix: string;
}

/** The error catalog: code → the class that raises it, exit code, HTTP status and fix, grouped by the part that raises it. */
export const ERRORS = {
  // The command line and the actions' inputs.
  E_USAGE: { class: 'UsageError', exit: 2, http: 500, fix: 'Correct the command line; bramble --help lists the commands and options.' },
  E_REGISTRY_USAGE: { class: 'RegistryUsageError', exit: 2, http: 500, fix: 'Correct the registry command as the message says; bramble COMMAND --help lists its options.' },
  E_OUTPUT: { class: 'OutputError', exit: 2, http: 500, fix: 'Free space where the output goes, or send the output elsewhere.' },
  E_ACTION_INPUT: { class: 'ActionInputError', exit: 2, http: 500, fix: "Correct the step's `with:` input named in the message." },
  E_STEP_FAILED: { class: 'StepFailure', exit: 1, http: 500, fix: 'Read the annotations and the job summary; fix the data or the model the gate refused.' },
  E_RETRAIN_BRANCH: { class: 'RetrainBranchError', exit: 2, http: 500, fix: "Give the checkout an https remote named origin that has the first environment's branch, and a token that may push branches." },
  E_APPROVAL_NOT_ENFORCED: { class: 'ApprovalNotEnforcedError', exit: 2, http: 500, fix: 'Add required reviewers to the GitHub environment or a tag ruleset over its assignment tags, or set approval: false.' },
  // ml.yaml.
  E_CONFIG: { class: 'ConfigError', exit: 2, http: 500, fix: 'Fix ml.yaml at the line and column given; docs/ml-yaml.md lists every key.' },
  // Data files and their checks.
  E_DATA_PATH: { class: 'DataPathError', exit: 2, http: 500, fix: 'Give a data path inside the repository, relative to ml.yaml.' },
  E_DATA_FILE: { class: 'DataFileError', exit: 2, http: 500, fix: 'Check that the data file exists and can be read.' },
  E_DATA_FORMAT: { class: 'DataFormatError', exit: 2, http: 500, fix: 'Give a CSV, JSON, Parquet or Arrow file, named by its extension.' },
  E_DATA_TYPE: { class: 'DataTypeError', exit: 2, http: 500, fix: "Fix the value at the line given, or declare the column's type in ml.yaml's schema." },
  E_DATA_MISSING: { class: 'MissingValueError', exit: 2, http: 500, fix: 'Fill the missing value, or declare the column nullable in the schema.' },
  E_DATA_JSON: { class: 'JsonDataError', exit: 2, http: 500, fix: 'Make the JSON data file an array of records.' },
  E_DATA_PARQUET: { class: 'ParquetReadError', exit: 2, http: 500, fix: 'Rewrite the Parquet file with pandas or pyarrow; the message names what could not be read.' },
  E_DATA_COLUMN: { class: 'DataColumnError', exit: 2, http: 500, fix: 'Name a column the data has (the message suggests the nearest).' },
  E_CSV: { class: 'CsvError', exit: 2, http: 500, fix: 'Fix the CSV at the line given: one header row, the same number of fields on every row.' },
  E_ENCODE: { class: 'EncodeError', exit: 2, http: 500, fix: 'Name the target and dropped columns as the CSV header spells them.' },
  E_SPLIT: { class: 'SplitError', exit: 2, http: 500, fix: "Fix split in ml.yaml, or the split.by column's values." },
  E_VALIDATE_INPUT: { class: 'ValidationInputError', exit: 2, http: 500, fix: "Load the data with the schema's load options before validating it." },
  E_DRIFT_INPUT: { class: 'DriftInputError', exit: 2, http: 500, fix: 'Compare data with the columns and types the champion was trained on.' },
  E_TRAINING_ROWS: { class: 'TrainingRowFilterError', exit: 2, http: 500, fix: "The model's training-row filter is damaged: retrain, or restore the model file." },
  // Features.
  E_FEATURE_EXPRESSION: { class: 'FeatureExpressionError', exit: 2, http: 500, fix: "Fix the derived feature's expression at the place given." },
  E_FEATURE_STEP: { class: 'FeatureStepError', exit: 2, http: 500, fix: 'Fix the features step in ml.yaml named in the message.' },
  E_FEATURE_INPUT: { class: 'FeatureInputError', exit: 2, http: 500, fix: 'Give rows with the columns and kinds the features were fitted on.' },
  E_FEATURES_FORMAT: { class: 'FeaturesFormatError', exit: 2, http: 500, fix: "The model's features are damaged or from another version: retrain." },
  // The forest and the model file.
  E_FOREST_OPTION: { class: 'ForestOptionError', exit: 2, http: 500, fix: 'Fix model.params in ml.yaml (or the forest option) named in the message.' },
  E_FOREST_WORKER: { class: 'WorkerError', exit: 2, http: 500, fix: 'Run npm run build so the worker exists, or train with workers: 1.' },
  E_TRAINING_DATA: { class: 'TrainingDataError', exit: 2, http: 500, fix: 'Give at least two rows, with one label per row.' },
  E_MODEL_FORMAT: { class: 'ModelFormatError', exit: 2, http: 500, fix: 'The forest is damaged or from another version: retrain, or restore the model file.' },
  E_ARTIFACT: { class: 'ArtifactError', exit: 2, http: 500, fix: 'The model artifact is damaged or edited: retrain, or restore it from the registry.' },
  E_EVALUATION_INPUT: { class: 'EvaluationInputError', exit: 2, http: 500, fix: 'Give held-out rows (raise split.test) and at least two classes.' },
  E_SOURCE_DIR: { class: 'SourceDirectoryError', exit: 2, http: 500, fix: 'Pass the folder that holds ml.yaml.' },
  // The pipeline.
  E_PIPELINE: { class: 'PipelineError', exit: 2, http: 500, fix: 'Fix what the message names in ml.yaml or the --champion given.' },
  E_CHAMPION: { class: 'ChampionError', exit: 2, http: 500, fix: 'Give a model.json path, a NAME@vX.Y.Z version or an environment as the champion.' },
  E_PREDICT_INPUT: { class: 'PredictInputError', exit: 2, http: 500, fix: "Give bramble predict a data file with the model's input columns." },
  // The registry (git tags).
  E_REGISTRY: { class: 'RegistryError', exit: 2, http: 500, fix: 'Do what the message says to the registry or its remote (fetch, a token, a version that exists).' },
  E_REGISTRY_NAME: { class: 'RegistryNameError', exit: 2, http: 500, fix: "Rename the model, environment or event as the message suggests; tag names follow GTO's rule." },
  E_REGISTRY_VERSION: { class: 'RegistryVersionError', exit: 2, http: 500, fix: 'Give a version as vX.Y.Z.' },
  E_RELEASE: { class: 'ReleaseError', exit: 2, http: 500, fix: 'Use a role (canary or shadow) on an environment that has a main version, with a weight from 0 to 1 and sticky id or header:NAME.' },
  E_REGISTRY_COUNTER: { class: 'RegistryCounterError', exit: 2, http: 500, fix: "Use a whole number ≥ 0 as the tag counter: the model's highest counter + 1." },
  // Run records (the bramble/runs branch).
  E_RUNS: { class: 'RunsError', exit: 2, http: 500, fix: "Run it inside the model's git repository, with the remote and token the message names." },
  E_RUNS_ID: { class: 'RunIdError', exit: 2, http: 500, fix: 'Give a run id that bramble runs ls lists: the whole id, a unique prefix, or its hash.' },
  E_RUNS_METRIC: { class: 'RunMetricError', exit: 2, http: 500, fix: 'Name a metric the runs recorded (bramble runs ls shows them as columns).' },
  E_RUNS_REWRITTEN: { class: 'RunsRewrittenError', exit: 2, http: 500, fix: "Restore the remote's bramble/runs branch, or accept its new history with the command the message gives." },
  // Parameter sweeps (bramble sweep).
  E_SWEEP: { class: 'SweepError', exit: 2, http: 500, fix: 'Add a sweep: block to ml.yaml, or fix the --shard or --gather the message names.' },
  E_SWEEP_FOLDS: { class: 'SweepFoldError', exit: 2, http: 500, fix: 'Lower sweep.folds in ml.yaml, or add rows, so that every fold has rows to validate on and two classes to train on.' },
  // The feature store (features.yaml, bramble ingest, training sets from the store).
  E_FEATURES_CONFIG: { class: 'FeaturesConfigError', exit: 2, http: 500, fix: 'Fix features.yaml at the line and column given; docs/feature-store.md lists every key.' },
  E_STORE_SOURCE: { class: 'StoreSourceError', exit: 2, http: 500, fix: "Make the source answer with a data file (the path, the URL, or the database and the environment variable the message names)." },
  E_STORE_BATCH: { class: 'StoreBatchError', exit: 2, http: 500, fix: 'The batch was quarantined, not merged: read the report the message names, fix the source, ingest again.' },
  E_STORE_DATA: { class: 'StoreDataError', exit: 2, http: 500, fix: 'Restore the partition the message names (or ingest again), so that it matches its manifest in git.' },
  E_STORE_JOIN: { class: 'StoreJoinError', exit: 2, http: 500, fix: "Fix the entity table or the view's rows the message names: one row per key, event time and created time." },
  // GitHub.
  E_GITHUB_AUTH: { class: 'GitHubAuthError', exit: 2, http: 500, fix: "Pass a token GitHub accepts (the workflow's GITHUB_TOKEN)." },
  E_GITHUB_PERMISSION: { class: 'GitHubPermissionError', exit: 2, http: 500, fix: "Grant the workflow job the permission named in the message (permissions: in the workflow)." },
  E_GITHUB_API: { class: 'GitHubApiError', exit: 2, http: 500, fix: 'GitHub failed or could not be reached after retries: run the job again.' },
  E_GITHUB_EVENT: { class: 'GitHubEventError', exit: 2, http: 500, fix: 'Trigger the workflow with pull_request, push, workflow_dispatch or schedule, inside GitHub Actions.' },
  // GitLab.
  E_GITLAB_AUTH: { class: 'GitLabAuthError', exit: 2, http: 500, fix: 'Set BRAMBLE_GITLAB_TOKEN to a project access token GitLab accepts, as a masked CI/CD variable.' },
  E_GITLAB_SCOPE: { class: 'GitLabScopeError', exit: 2, http: 500, fix: "Give the token the scope (or role) the message names: a project access token's scopes are set when it is created." },
  E_GITLAB_API: { class: 'GitLabApiError', exit: 2, http: 500, fix: 'GitLab failed or could not be reached after retries: run the job again.' },
  E_GITLAB_LIMIT: { class: 'GitLabLimitError', exit: 2, http: 500, fix: "Shorten what the message names: GitLab refuses notes and dotenv reports over its limits." },
  E_GITLAB_TAG: { class: 'GitLabTagError', exit: 2, http: 500, fix: 'Give a registry tag (NAME@vX.Y.Z or NAME#ENV#N): Bramble starts pipelines only for the tags it writes.' },
  E_GITLAB_CI: { class: 'GitLabCiError', exit: 2, http: 500, fix: "Run the step inside a GitLab CI job (its predefined variables), from the components' jobs." },
  E_COMMENT_TOO_LONG: { class: 'CommentTooLongError', exit: 2, http: 500, fix: 'Trim the report before posting it.' },
  // Deploying.
  E_DEPLOY: { class: 'DeployError', exit: 1, http: 500, fix: 'The version was not deployed and the old model serves: read the reason, fix it, deploy again.' },
  E_DEPLOY_AUTH: { class: 'DeployAuthError', exit: 2, http: 500, fix: "Set the admin token the server expects (serve.json's adminTokenEnv)." },
  // The server: starting it.
  E_SERVE_CONFIG: { class: 'ServeConfigError', exit: 2, http: 500, fix: 'Fix serve.json (or the environment variable it names); docs/serving.md lists its keys.' },
  E_MODEL_FOLDER: { class: 'ModelFolderError', exit: 2, http: 500, fix: "Set serve.json's models to a folder the server's user may write." },
  E_PORT_IN_USE: { class: 'ListenError', exit: 2, http: 500, fix: 'Stop what listens on the port, or choose another port in serve.json.' },
  E_PORT_PRIVILEGED: { class: 'ListenError', exit: 2, http: 500, fix: 'Choose a port from 1024 up, or let the service bind low ports (CAP_NET_BIND_SERVICE).' },
  E_LISTEN_ADDRESS: { class: 'ListenError', exit: 2, http: 500, fix: "Set listen.host to 127.0.0.1, 0.0.0.0 or one of the machine's own addresses." },
  E_METRICS: { class: 'MetricsError', exit: 2, http: 500, fix: 'A metric is declared or used against its kind; the message names it.' },
  E_PREDICTION_LOG: { class: 'PredictionLogError', exit: 2, http: 500, fix: "Fix serve.json's log block as the message says." },
  E_MONITOR_LOG: { class: 'MonitorLogError', exit: 2, http: 500, fix: "Give --logs the folder of serve.json's log.dir, where predictions.jsonl is." },
  E_SYNC: { class: 'SyncError', exit: 2, http: 500, fix: "Fix serve.json's git block, or the token it names, so the host can read the registry." },
  E_ONLINE_STORE: { class: 'OnlineStoreError', exit: 2, http: 500, fix: 'Run bramble materialize for the view the message names, or fix the online store path (serve.json features.store, --online).' },
  // The server: answering a request.
  E_SERVE_INPUT: { class: 'InputError', exit: 2, http: 400, fix: "Send rows in one of the protocol's shapes, with the model's columns (GET /v2/models/NAME lists them)." },
  E_SERVE_MODEL: { class: 'ModelLoadError', exit: 2, http: 409, fix: 'The model was refused and the old one serves: deploy a sound artifact.' },
  E_FEATURE_KEY: { class: 'FeatureKeyError', exit: 2, http: 400, fix: "Give the entity key the message names in each row that leaves the view's features to the online store." },
  E_FEATURE_ENTITY: { class: 'FeatureEntityError', exit: 2, http: 404, fix: "Materialize the entity's values (bramble materialize), send its features in the row, or declare on_missing: null for the view." },
  E_HTTP_BAD_PATH: { class: 'HttpError', exit: 2, http: 400, fix: 'Percent-encode the path with encodeURIComponent.' },
  E_HTTP_UNAUTHORIZED: { class: 'HttpError', exit: 2, http: 401, fix: 'Send the bearer token of the environment (Authorization: Bearer …), or the admin token.' },
  E_HTTP_NOT_FOUND: { class: 'HttpError', exit: 2, http: 404, fix: 'Use a route the server has: POST /ENV/invocations, /ENV/v2/models/NAME/infer, /ping, /metrics.' },
  E_HTTP_METHOD: { class: 'HttpError', exit: 2, http: 405, fix: 'Use the method in the Allow header (POST for predictions).' },
  E_HTTP_CONFLICT: { class: 'HttpError', exit: 2, http: 409, fix: 'A host that follows git takes models from the tags: promote, then POST /admin/sync.' },
  E_HTTP_TOO_LARGE: { class: 'HttpError', exit: 2, http: 413, fix: 'Send fewer rows per request, or raise limits.bodyBytes in serve.json.' },
  E_HTTP_MEDIA_TYPE: { class: 'HttpError', exit: 2, http: 415, fix: 'Send application/json or text/csv.' },
  E_HTTP_UNAVAILABLE: { class: 'HttpError', exit: 2, http: 503, fix: 'Deploy a model to the environment, or retry after Retry-After when the prediction log is full.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * The base of every error Bramble shows a person. Each failure kind has its own subclass with a stable `code`
 * and structured `data`; the message names the bad value, where it came from, and the fix. The edges (CLI,
 * actions) print `message` and never a stack trace for these. Abstract: a class comes from the catalog.
 */
export abstract class BrambleError extends Error {
  readonly code: ErrorCode;
  readonly data: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
}

/** The base class of one catalog row: `class ArtifactError extends errorClass('E_ARTIFACT') {}`. */
export function errorClass<C extends ErrorCode>(code: C) {
  return class extends BrambleError {
    static readonly code: C = code;
    declare readonly code: C;
    constructor(message: string, data: Record<string, unknown> = {}) {
      super(code, message, data);
    }
  };
}

/** The base class of a few rows that share one shape: the code is the constructor's first argument. */
export function errorFamily<C extends ErrorCode>(codes: readonly C[]) {
  return class extends BrambleError {
    static readonly codes: readonly C[] = codes;
    declare readonly code: C;
    constructor(code: C, message: string, data: Record<string, unknown> = {}) {
      super(code, message, data);
    }
  };
}

/** A node error code that means a mistake on the command line (util.parseArgs's). */
function isParseArgsError(err: unknown): boolean {
  return err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');
}

/** The one place a thrown value becomes the CLI's exit code: its row's, 2 for a bad command line, else 3 (a bug). */
export function exitCodeOf(err: unknown): number {
  if (err instanceof BrambleError && Object.hasOwn(ERRORS, err.code)) return ERRORS[err.code].exit;
  if (err instanceof BrambleError || isParseArgsError(err)) return EXIT.usage;
  return EXIT.internal;
}

/** The one place a thrown value becomes the server's status: its row's, else 500. */
export function httpStatusOf(err: unknown): number {
  return err instanceof BrambleError && Object.hasOwn(ERRORS, err.code) ? ERRORS[err.code].http : 500;
}

/** Renders any thrown value as one line, so that a thrown string or object cannot exit green or print `[object Object]`. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  // Errors that crossed a thread arrive as plain objects.
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') return err.message;
  if (typeof err === 'object' && err !== null) {
    try {
      return JSON.stringify(err);
    } catch {
      return Object.prototype.toString.call(err);
    }
  }
  return String(err);
}

/** The closest candidate by edit distance, when it is close enough to be a plausible typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
