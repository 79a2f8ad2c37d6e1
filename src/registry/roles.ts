// Release roles: an environment's second version, declared in git. A canary (part of the traffic, by weight) or a
// shadow (every request, its answer logged and never returned) is an assignment to a role stage, `NAME#ENV-canary#N`
// or `NAME#ENV-shadow#N` — a valid GTO stage, so `gto show` and our index list it like any environment — and
// `NAME#ENV-canary!#N` takes it away.
//
// Decisions:
// - The weight and stickiness are decided in ml.yaml (`environments.ENV.canary`, changed by pull request) and
//   recorded in the assignment tag's message (`Bramble-Weight: 0.1`, `Bramble-Sticky: id`) when `bramble promote
//   --role canary` writes it. The host reads tags and the registry branch only, never a source branch, and tags
//   win (DESIGN.md §5): the weight that serves is the one in the newest role tag. A reweight is a new tag for the
//   same version with the new weight; the host takes it without loading the model again.
// - A role stage is the environment's name, '-', the role. ml.yaml refuses environment names that end in a role,
//   so `prod-canary` can only ever mean prod's canary.
import { errorClass, nearest } from '../errors.js';

export const RELEASE = {
  roles: ['canary', 'shadow'] as const,
  /** Between the environment and the role in a stage name. */
  separator: '-',
  /** The tag message's trailers. */
  trailers: { role: 'Bramble-Role', weight: 'Bramble-Weight', sticky: 'Bramble-Sticky' },
  /** Stickiness when ml.yaml names none: the request's id column (ml.yaml data.id). */
  defaultSticky: 'id',
} as const;

export type ReleaseRole = (typeof RELEASE.roles)[number];
/** What answered a logged request: the environment's main version, its canary, or its shadow. */
export type Role = 'main' | ReleaseRole;

/** How a canary splits traffic: the share of rows it answers and what keeps one client on one version. */
export interface CanarySettings {
  /** 0 ≤ weight ≤ 1. */
  weight: number;
  /** `id` (the row's ml.yaml data.id value) or `header:NAME` (a client header, e.g. header:X-Client-Id). */
  sticky: string;
}

/** A role or release setting that cannot be used: an unknown role, a weight out of range, no main version. */
export class ReleaseError extends errorClass('E_RELEASE') {}

const STICKY = /^(id|header:[A-Za-z0-9-]{1,64})$/;

/** A role as given on the command line; an unknown one is a located usage error. */
export function parseRole(text: string, where: string): ReleaseRole {
  const role = RELEASE.roles.find((r) => r === text);
  if (role) return role;
  const hint = nearest(text, RELEASE.roles);
  throw new ReleaseError(`${where}: unknown role ${JSON.stringify(text)}${hint ? `; did you mean ${hint}?` : ''} (roles: ${RELEASE.roles.join(', ')}; the main version takes no --role)`, {
    role: text,
  });
}

/** The GTO stage of an environment's role: `prod` + canary → `prod-canary`. */
export function roleStage(env: string, role: Role): string {
  return role === 'main' ? env : `${env}${RELEASE.separator}${role}`;
}

/** The environment and role a stage names: `prod-canary` → prod, canary; `prod` → prod, main. */
export function stageRole(stage: string): { env: string; role: Role } {
  for (const role of RELEASE.roles) {
    const suffix = `${RELEASE.separator}${role}`;
    if (stage.endsWith(suffix) && stage.length > suffix.length) return { env: stage.slice(0, -suffix.length), role };
  }
  return { env: stage, role: 'main' };
}

/** Checks a canary's settings (ml.yaml's schema has already; this guards the tag message and the API). */
export function checkCanary(settings: CanarySettings, where: string): CanarySettings {
  const { weight, sticky } = settings;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
    throw new ReleaseError(`${where}: weight must be a number from 0 to 1, the share of rows the canary answers (got ${JSON.stringify(weight)}); e.g. 0.1`, { weight });
  }
  if (typeof sticky !== 'string' || !STICKY.test(sticky)) {
    throw new ReleaseError(`${where}: sticky must be "id" or "header:NAME" (e.g. header:X-Client-Id) (got ${JSON.stringify(sticky)})`, { sticky });
  }
  return { weight, sticky };
}

/** The trailers an assignment's tag message carries for a role (none for the main version). */
export function releaseTrailers(role: Role, canary: CanarySettings | null): string {
  if (role === 'main') return '';
  const t = RELEASE.trailers;
  let text = `${t.role}: ${role}\n`;
  if (role === 'canary' && canary) text += `${t.weight}: ${canary.weight}\n${t.sticky}: ${canary.sticky}\n`;
  return text;
}

/** A canary's settings as an assignment tag's message records them; null when it records none or they are malformed. */
export function readCanaryTrailers(message: string): CanarySettings | null {
  const weight = new RegExp(`^${RELEASE.trailers.weight}: (\\S+)$`, 'm').exec(message)?.[1];
  const sticky = new RegExp(`^${RELEASE.trailers.sticky}: (\\S+)$`, 'm').exec(message)?.[1] ?? RELEASE.defaultSticky;
  if (weight === undefined) return null;
  const w = Number(weight);
  if (!Number.isFinite(w) || w < 0 || w > 1 || !STICKY.test(sticky)) return null;
  return { weight: w, sticky };
}
