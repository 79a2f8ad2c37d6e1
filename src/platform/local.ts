// The terminal adapter: the same steps as on GitHub, with the comment and the summary printed to standard output,
// annotations as compiler-style `file:line:col: error: message` lines on standard error, and deployments as lines
// of their own. Nothing is sent anywhere. It also holds the per-step annotation budget both adapters share.
import type { Annotation, DeploymentHandle, DeploymentRequest, EventContext, Platform } from './types.js';

export const ANNOTATIONS = {
  /** GitHub shows at most this many annotations of each level per step and drops the rest without a word. */
  perLevel: 10,
  levels: ['error', 'warning', 'notice'],
} as const;

export type AnnotationLevel = Annotation['level'];

// Per process, because GitHub's limit is per step and a step is one process. The terminal keeps the same budget so
// that both faces read alike.
const annotationsShown: Record<AnnotationLevel, number> = { error: 0, warning: 0, notice: 0 };

/**
 * Splits annotations into those the step may still show (up to ANNOTATIONS.perLevel of each level, counted over
 * the whole process) and the rest, by level. Counts what it lets through.
 */
export function spendAnnotationBudget(annotations: readonly Annotation[]): {
  shown: Annotation[];
  hidden: Record<AnnotationLevel, Annotation[]>;
} {
  const shown: Annotation[] = [];
  const hidden: Record<AnnotationLevel, Annotation[]> = { error: [], warning: [], notice: [] };
  for (const annotation of annotations) {
    if (annotationsShown[annotation.level] < ANNOTATIONS.perLevel) {
      annotationsShown[annotation.level] += 1;
      shown.push(annotation);
    } else {
      hidden[annotation.level].push(annotation);
    }
  }
  return { shown, hidden };
}

/** Takes one slot of a level's budget, for a line about hidden annotations; false when the level is spent. */
export function takeAnnotationSlot(level: AnnotationLevel): boolean {
  if (annotationsShown[level] >= ANNOTATIONS.perLevel) return false;
  annotationsShown[level] += 1;
  return true;
}

/** For tests, which run many "steps" in one process. */
export function resetAnnotationBudget(): void {
  for (const level of ANNOTATIONS.levels) annotationsShown[level] = 0;
}

/** `file:line:col: level: title: message`, leaving out what is unknown (the format editors and terminals link). */
export function formatAnnotation(a: Annotation): string {
  const where = a.file ? [a.file, a.line, a.line !== undefined ? a.col : undefined].filter((p) => p !== undefined).join(':') : '';
  return `${where ? `${where}: ` : ''}${a.level}: ${a.title ? `${a.title}: ` : ''}${a.message}`;
}

/** "3 more errors", "1 more warning". */
export function countHidden(level: AnnotationLevel, n: number): string {
  return `${n} more ${level}${n === 1 ? '' : 's'}`;
}

export function localPlatform(
  io: { out: (s: string) => void; err: (s: string) => void },
  context: Partial<EventContext> = {},
): Platform {
  const event: EventContext = {
    kind: 'local',
    repository: null,
    sha: null,
    ref: null,
    pullRequest: null,
    actor: null,
    runUrl: null,
    ...context,
  };
  // A terminal has no comment to update; the first report of a marker counts as created, the later ones as updates,
  // so a step that looks at `created` behaves as it would on a pull request.
  const markersSeen = new Set<string>();

  return {
    name: 'local',
    context: () => event,

    async upsertComment(marker, body, target) {
      if (!event.pullRequest && !target) return null;
      const created = !markersSeen.has(marker);
      markersSeen.add(marker);
      io.out(body);
      return { url: null, created };
    },

    // A terminal has no issues, pipelines or pull requests: the caller says what it would have done.
    async upsertIssue() {
      return null;
    },

    async closeIssue() {
      return null;
    },

    async dispatchPipeline() {
      return null;
    },

    async openPullRequest() {
      return null;
    },

    async summary(markdown) {
      io.out(markdown);
    },

    annotate(annotations) {
      const { shown, hidden } = spendAnnotationBudget(annotations);
      for (const a of shown) io.err(formatAnnotation(a));
      for (const level of ANNOTATIONS.levels) {
        const n = hidden[level].length;
        if (n > 0) io.err(`${countHidden(level, n)} not shown (at most ${ANNOTATIONS.perLevel} of each level per step)`);
      }
    },

    async startDeployment(request: DeploymentRequest): Promise<DeploymentHandle> {
      io.out(`deployment ${request.environment}: in_progress, ${request.ref} (${request.description})${request.url ? ` ${request.url}` : ''}`);
      return {
        id: null,
        async finish(state, description, url) {
          const where = url ?? request.url;
          io.out(`deployment ${request.environment}: ${state}, ${description}${where ? ` ${where}` : ''}`);
        },
      };
    },

    continueDeployment(request: DeploymentRequest): Promise<DeploymentHandle> {
      // The terminal keeps no records: there is nothing to continue.
      return this.startDeployment(request);
    },

    async checkApproval() {
      // A terminal has no reviewers to ask: an environment that needs approval is promoted from the pipeline.
      return { approved: false, findings: ['a terminal has no GitHub environment or tag ruleset to ask; promote from the pipeline'] };
    },

    setOutput(name, value) {
      io.out(`${name}=${value}`);
    },

    info(message) {
      io.err(message);
    },
  };
}
