// Canary, shadow and A/B in the server: which model answers each row of a request, and the shadow that scores it
// too without answering. The host holds one ReleasePlan per environment (host.ts), rebuilt on every swap, so a
// request reads one object and is answered by the models that object names, whatever the sync does meanwhile.
//
// Decisions:
// - Per row, by the row's sticky key: `sticky: id` hashes the value of the model's id column (ml.yaml data.id),
//   `sticky: header:NAME` the request's header. The hash is the row identities' murmur3-style text hash (data/identity.ts)
//   under a seed of its own, compared with weight × 2³²: the same key goes to the same version for as long as the weight stays, and raising
//   the weight only moves keys from main to canary (never back). A row without a key (no id column, null, or no
//   header) is placed by the hash of the request id and the row's index: a seeded per-request choice.
// - A request whose rows split across main and canary is answered row by row in order from both; when their
//   classes differ (the probabilities would not line up) the whole request follows its first row's key. Each part
//   is logged as its own line (same request id) naming its version and role.
// - The shadow scores every request after its answer is written (telemetry.shadow: one setImmediate a turn, which
//   runs after the reply's promise callbacks), and its line is logged with role "shadow"; its answer never reaches
//   the client. Rows the shadow refuses (a changed signature) are counted, not logged.
import { textWords } from '../data/identity.js';
import type { Label } from '../model/forest/input.js';
import type { CanarySettings, Role } from '../registry/roles.js';
import type { ServedModel, Prediction } from './model.js';
import type { ServeTelemetry } from './telemetry.js';

export interface ReleasePlan {
  main: ServedModel | null;
  canary: { model: ServedModel; settings: CanarySettings; /** weight × 2³², compared with the key's hash. */ threshold: number; header: string | null } | null;
  shadow: ServedModel | null;
}

export const NO_RELEASE: ReleasePlan = Object.freeze({ main: null, canary: null, shadow: null });

/** The plan for an environment's three slots, with the canary's weight turned into a hash threshold. */
export function releasePlan(main: ServedModel | null, canary: ServedModel | null, settings: CanarySettings | null, shadow: ServedModel | null): ReleasePlan {
  if (main === null) return { main, canary: null, shadow: null };
  const c = canary !== null && settings !== null ? { model: canary, settings, threshold: settings.weight * 2 ** 32, header: headerOf(settings.sticky) } : null;
  return { main, canary: c, shadow };
}

/** Each role's share of the rows under a plan, for /metrics: main 1 − w, canary w, shadow 1 (it scores all, answers none). */
export function planShares(plan: ReleasePlan): { role: Role; model: ServedModel; weight: number }[] {
  if (plan.main === null) return [];
  const shares: { role: Role; model: ServedModel; weight: number }[] = [{ role: 'main', model: plan.main, weight: 1 - (plan.canary?.settings.weight ?? 0) }];
  if (plan.canary) shares.push({ role: 'canary', model: plan.canary.model, weight: plan.canary.settings.weight });
  if (plan.shadow) shares.push({ role: 'shadow', model: plan.shadow, weight: 1 });
  return shares;
}

function headerOf(sticky: string): string | null {
  return sticky.startsWith('header:') ? sticky.slice('header:'.length).toLowerCase() : null;
}

/** The seed of the sticky hash, apart from the identities' lanes: a row's canary draw is not its split position. */
const STICKY_SEED = 0x5a11c0de;

/** The key's 32-bit hash: the identities' text hash (data/identity.ts) under a seed of its own. */
export function stickyHash(key: string): number {
  return textWords(key, STICKY_SEED);
}

/** Whether a key goes to the canary under this plan. */
export function toCanary(threshold: number, key: string): boolean {
  return stickyHash(key) < threshold;
}

/** What a prediction request needs from the server to be routed and logged. */
export interface Routed {
  env: string;
  id: string;
  started: number;
  req: { readonly headers: Readonly<Record<string, string | string[] | undefined>> };
}

/** The answer to a request: the rows' predictions in order, and what to tell the client about who answered. */
export interface Scored extends Prediction {
  /** The model whose shape the answer takes (main, or the canary when it answered every row). */
  model: ServedModel;
  role: Role | 'mixed';
  /** x-bramble-model and x-bramble-role: `churn@v1.1.0` and `canary`, or both versions and `mixed`. */
  headers: Record<string, string>;
  /** The rows as the log line wrote them (JSON), when one line holds them all: the shadow's line reuses it. */
  inputs?: string;
}

/**
 * Scores a request's rows under the plan (per row: main or canary), logs each part, and schedules the shadow.
 * `text` is the records' JSON as the client sent it, when the log may write that instead of serialising them.
 */
export function scoreRequest(telemetry: ServeTelemetry, plan: ReleasePlan, main: ServedModel, q: Routed, records: unknown[], text?: string): Scored {
  const canary = plan.main === main ? plan.canary : null;
  const where = (i: number): string => `row ${i}`;
  let scored: Scored;
  const picks = canary === null ? null : pickRows(canary, main, q, records);
  if (canary === null || picks === null || picks.canary === 0) scored = whole(telemetry, main, 'main', q, records, where, text);
  else if (picks.canary === records.length) scored = whole(telemetry, canary.model, 'canary', q, records, where, text);
  else scored = split(telemetry, main, canary.model, picks.rows, q, records);
  if (plan.shadow !== null && plan.main === main) {
    telemetry.shadow(q, plan.shadow, records, scored.model, scored.inputs);
  }
  return scored;
}

function whole(telemetry: ServeTelemetry, model: ServedModel, role: Role, q: Routed, records: unknown[], where: (i: number) => string, text: string | undefined): Scored {
  const p = model.predict(records, where);
  const answered = { env: q.env, model, id: q.id, records, labels: p.predictions, probabilities: p.probabilities, started: q.started, role };
  // Without the text as sent, predicted's default serialises the records.
  const inputs = telemetry.predicted(answered, text);
  return { predictions: p.predictions, probabilities: p.probabilities, model, role, headers: answerHeaders(model, role), inputs };
}

/** x-bramble-model and x-bramble-role of a whole answer, made once per model and role (every request reads them). */
const ANSWER_HEADERS = new WeakMap<ServedModel, Map<Role, Readonly<Record<string, string>>>>();

function answerHeaders(model: ServedModel, role: Role): Record<string, string> {
  let byRole = ANSWER_HEADERS.get(model);
  if (byRole === undefined) ANSWER_HEADERS.set(model, (byRole = new Map()));
  let headers = byRole.get(role);
  if (headers === undefined) byRole.set(role, (headers = Object.freeze({ 'x-bramble-model': `${model.name}@${model.version}`, 'x-bramble-role': role })));
  return headers as Record<string, string>;
}

/** Per row, 1 where the canary answers, and how many rows that is. */
function pickRows(canary: NonNullable<ReleasePlan['canary']>, main: ServedModel, q: Routed, records: readonly unknown[]): { rows: Uint8Array; canary: number } {
  const rows = new Uint8Array(records.length);
  let n = 0;
  const header = canary.header === null ? undefined : q.req.headers[canary.header];
  const headerKey = typeof header === 'string' && header !== '' ? header : null;
  const idColumn = canary.header === null ? main.idColumn : null;
  for (let i = 0; i < records.length; i++) {
    const key = headerKey ?? rowKey(records[i], idColumn) ?? `${q.id}#${i}`;
    if (toCanary(canary.threshold, key)) {
      rows[i] = 1;
      n++;
    }
  }
  if (n > 0 && n < records.length && !sameClasses(main, canary.model)) {
    // Probabilities of two class lists cannot share one answer: the request follows its first row.
    rows.fill(rows[0]);
    n = rows[0] === 1 ? records.length : 0;
  }
  return { rows, canary: n };
}

function rowKey(record: unknown, idColumn: string | null): string | null {
  if (idColumn === null || typeof record !== 'object' || record === null) return null;
  const value = (record as Record<string, unknown>)[idColumn];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
}

function sameClasses(a: ServedModel, b: ServedModel): boolean {
  if (a.classes === null || b.classes === null) return a.classes === b.classes;
  return a.classes.length === b.classes.length && a.classes.every((c, i) => c === b.classes?.[i]);
}

/** A request answered by both: each model scores its rows, and the answer puts them back in order. */
function split(telemetry: ServeTelemetry, main: ServedModel, canary: ServedModel, rows: Uint8Array, q: Routed, records: unknown[]): Scored {
  const parts: { model: ServedModel; role: Role; index: number[] }[] = [
    { model: main, role: 'main', index: [] },
    { model: canary, role: 'canary', index: [] },
  ];
  for (let i = 0; i < rows.length; i++) parts[rows[i]].index.push(i);
  // Every row is checked by its own model before any is scored, so a bad row fails the whole request.
  for (const part of parts) for (const i of part.index) part.model.check(records[i], `row ${i}`);
  const width = main.classes ? main.classes.length : 0;
  const predictions: Label[] = new Array(records.length);
  const probabilities = main.classes ? new Float64Array(records.length * width) : null;
  for (const part of parts) {
    const mine = part.index.map((i) => records[i]);
    const p = part.model.predict(mine, (k) => `row ${part.index[k]}`);
    for (let k = 0; k < part.index.length; k++) {
      const i = part.index[k];
      predictions[i] = p.predictions[k];
      if (probabilities && p.probabilities) for (let c = 0; c < width; c++) probabilities[i * width + c] = p.probabilities[k * width + c];
    }
    telemetry.predicted({ env: q.env, model: part.model, id: q.id, records: mine, labels: p.predictions, probabilities: p.probabilities, started: q.started, role: part.role });
  }
  return {
    predictions,
    probabilities,
    model: main,
    role: 'mixed',
    headers: { 'x-bramble-model': `${main.name}@${main.version},${canary.name}@${canary.version}`, 'x-bramble-role': 'mixed' },
  };
}
