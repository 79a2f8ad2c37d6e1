// The registry's state, folded from its tag records: which versions exist, which environment serves which
// version, and the full history of each. Pure functions over plain records, so that the same code answers
// "what serves prod now" and "what served prod on 1 November" (fold only the records up to that time).
import { stageRole, type CanarySettings, type ReleaseRole } from './roles.js';
import { compareVersions, type RegistryEvent } from './tags.js';

export interface Person {
  name: string;
  email: string;
}

/** One registry tag as read from git (or from the index, which caches exactly this). */
export interface TagRecord {
  /** The tag's name, e.g. `churn#prod#4`. */
  tag: string;
  /** The annotated tag object's id. */
  oid: string;
  /** The commit the tag points at: the source commit of the version. */
  target: string;
  /** The tagger and the tag's time (ISO 8601 UTC). */
  by: Person;
  at: string;
  /** Assignments: the version the message names (GTO's own tags leave it to the commit). */
  version?: string;
  /** Registrations: the sha256 of the artifact the message names (absent on tags Bramble did not write). */
  artifact?: string;
  /** Canary assignments: the weight and stickiness the message records (roles.ts). */
  canary?: CanarySettings;
  /**
   * The annotated tag object's own text. The index carries it so that a reader can check each record against the
   * tag's object id (git's SHA-1 of this text) and never trust a record that a push to the branch could forge.
   */
  object?: string;
}

export interface RecordedEvent {
  record: TagRecord;
  event: RegistryEvent;
}

export interface VersionState {
  name: string;
  version: string;
  commit: string;
  artifact: string | null;
  registered: { by: Person; at: string; tag: string };
  deregistered: { by: Person; at: string; tag: string } | null;
}

export interface Assignment {
  env: string;
  /** null for an unassignment. */
  version: string | null;
  counter: number | null;
  by: Person;
  at: string;
  tag: string;
  /** A role stage's assignment (`prod-canary`): its role; absent for an environment's main version. */
  role?: ReleaseRole;
  /** A canary's weight and stickiness, as its tag's message records them. */
  canary?: CanarySettings;
}

export interface ModelState {
  name: string;
  /** Registered versions, oldest first by semantic version. */
  versions: VersionState[];
  /** Every environment's current assignment (or its unassignment). */
  envs: Map<string, Assignment>;
  /** Every assignment and unassignment, in the order they count: by counter, then time. */
  history: Assignment[];
  deprecated: { by: Person; at: string; tag: string } | null;
  /** The highest counter used by any of the model's tags (0 when none). */
  counter: number;
}

/** Versions and assignments are ordered by GTO's counter where there is one, then by the tag's time. */
function order(a: RecordedEvent, b: RecordedEvent): number {
  const ca = a.event.counter;
  const cb = b.event.counter;
  if (ca !== null && cb !== null && ca !== cb) return ca - cb;
  if (a.record.at !== b.record.at) return a.record.at < b.record.at ? -1 : 1;
  return a.record.tag < b.record.tag ? -1 : a.record.tag > b.record.tag ? 1 : 0;
}

/**
 * Folds the records into each model's state. `until` (ISO) keeps only what had happened by then: the registry
 * as it stood at that moment.
 */
export function foldState(events: readonly RecordedEvent[], until?: string): Map<string, ModelState> {
  const models = new Map<string, ModelState>();
  const model = (name: string): ModelState => {
    let m = models.get(name);
    if (!m) {
      m = { name, versions: [], envs: new Map(), history: [], deprecated: null, counter: 0 };
      models.set(name, m);
    }
    return m;
  };
  const kept = events.filter((e) => until === undefined || e.record.at <= until);
  // Registrations first, so that assignments can find the version on their commit.
  for (const { record, event } of kept) {
    if (event.kind !== 'register') continue;
    model(event.name).versions.push({
      name: event.name,
      version: event.version,
      commit: record.target,
      artifact: record.artifact ?? null,
      registered: { by: record.by, at: record.at, tag: record.tag },
      deregistered: null,
    });
  }
  for (const m of models.values()) m.versions.sort((a, b) => compareVersions(a.version, b.version));
  for (const e of [...kept].sort(order)) {
    const { record, event } = e;
    const m = model(event.name);
    if (event.counter !== null) m.counter = Math.max(m.counter, event.counter);
    if (event.kind === 'deregister') {
      const v = m.versions.find((x) => x.version === event.version);
      if (v) v.deregistered = { by: record.by, at: record.at, tag: record.tag };
    } else if (event.kind === 'deprecate') {
      m.deprecated = { by: record.by, at: record.at, tag: record.tag };
    } else if (event.kind === 'assign' || event.kind === 'unassign') {
      const version = event.kind === 'unassign' ? null : (record.version ?? versionOnCommit(m, record.target));
      const assignment: Assignment = { env: event.env, version, counter: event.counter, by: record.by, at: record.at, tag: record.tag };
      const { role } = stageRole(event.env);
      if (role !== 'main') assignment.role = role;
      if (role === 'canary' && record.canary && version !== null) assignment.canary = record.canary;
      m.history.push(assignment);
      m.envs.set(event.env, assignment);
    }
  }
  return models;
}

/** GTO's own assignment tags name no version: it is the newest version registered on the tagged commit. */
function versionOnCommit(m: ModelState, commit: string): string | null {
  const on = m.versions.filter((v) => v.commit === commit);
  return on.length > 0 ? on[on.length - 1].version : null;
}

/** The model's newest registered version that is not deregistered. */
export function latestVersion(m: ModelState | undefined): VersionState | undefined {
  const live = m?.versions.filter((v) => v.deregistered === null) ?? [];
  return live[live.length - 1];
}
