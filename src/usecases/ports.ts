// What a use-case is given by the face that calls it (the CLI, a GitHub action, next a GitLab job): the git
// remote's credentials, the clock, a logger, the platform when there is one, and how the face shows a path. The
// use-cases never read process.env, write to a console or build a client themselves.
import type * as nodeFs from 'node:fs';
import type { Platform } from '../platform/types.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Log {
  /** Progress a person may want to see ("training first"). */
  info(message: string): void;
  /** Something went around a problem (an unreachable remote, a fallback) and kept going. */
  warn(message: string): void;
}

/** How a use-case reaches git: the remote it fetches from and pushes to, and the environment its tokens come from. */
export interface GitPort {
  /** BRAMBLE_GIT_TOKEN, GITHUB_TOKEN, GITLAB_TOKEN, CI_JOB_TOKEN, GIT_COMMITTER_DATE and the tagger's identity. */
  env: Env;
  /** A remote's name, null for this repository alone; undefined: origin, when it exists. */
  remote?: string | null;
}

export interface Ports {
  git: GitPort;
  log: Log;
  /** Milliseconds, for durations (performance.now on the edges; a constant in tests). */
  clock: { now(): number };
  /** Recorded in an artifact's lineage: every face passes the same, so that they build the same artifact. */
  versions: { bramble: string; node: string };
  fs?: typeof nodeFs;
  /** Where the run is hosted (GitHub): approvals, deployment records. Absent in a terminal. */
  platform?: Platform;
  /** A folder for scratch files (a champion fetched from the registry). */
  tempDir?: string;
  /** A file's path as the face shows it (GitHub: relative to the workspace). Default: as given. */
  showPath?: (file: string) => string;
}
