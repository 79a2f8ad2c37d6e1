/**
 * The registry's git-tag grammar: Iterative's GTO grammar, transcribed so that GTO and its tools read our registry
 * and we read theirs.
 *
 * Sources (read through the code index; the newest stored versions):
 * - iterative/gto gto/constants.py: `name`, `dirname`, `semver`, `counter`, `fullname`, `tag_re`, the `:`→`=`
 *   encoding of monorepo names (`SEPARATOR_IN_NAME`, `SEPARATOR_IN_TAG`, `name_to_tag`, `tag_to_name`).
 * - iterative/gto gto/tag.py: `TagTemplates`, `parse_name`, `name_tag` (the counter: the highest `#N` on any tag of
 *   the same artifact, whatever its action, plus one; 1 when there is none).
 * - iterative/gto gto/versions.py: `SemVer` (a `v`, then SemVer 2.0 parsed by python-semver), `get_minimal()` =
 *   v0.0.1; gto/api.py `register`: the first version is v0.0.1, later ones bump the latest registered version.
 * - iterative/gto tests/test_tag.py, tests/test_constants.py, tests/test_versions.py: the examples in our tests.
 * - iterative/mlem.ai content/docs/gto/user-guide.md, "Git tags format" (https://mlem.ai/doc/gto/user-guide): the
 *   five forms, and that `#{e}` may be left out ("simple" tags); GTO leaves it out by default for registrations,
 *   deregistrations and deprecations, and writes it for assignments.
 * - https://mlem.ai/doc/gto/command-reference/{register,assign,deprecate} and content/docs/gto/get-started.md:
 *   example tags `awesome-model#prod!#2`, `awesome-model@deprecated`, `cv-class#dev#1`.
 *
 * Where we differ from GTO, on purpose: digits are ASCII (Python's `\d` also takes other scripts' digits);
 * counters and version numbers beyond 2^53 - 1 are not read (a JS number cannot hold them); a `name@created` tag,
 * which GTO's regex accepts but gives no action (GTO's `find` then raises KeyError), is ignored with the warning;
 * names that git cannot store in a tag (`a//b`, a folder with `..`) are neither read nor written, though GTO's
 * regex allows them. A counter with leading zeros (`#01`) is read as GTO reads it (1) and written back as `#1`.
 * GTO reads annotated tags only; callers pass only those names here.
 */
import { errorClass } from '../errors.js';

/** The grammar's marks, as they appear in tag names. */
export const TAG_GRAMMAR = {
  version: '@',
  stage: '#',
  cancel: '!',
  counter: '#',
  deprecated: 'deprecated',
  /** A monorepo artifact `folder:name` is written `folder=name` in a tag, because git tags cannot hold ':'. */
  separatorInName: ':',
  separatorInTag: '=',
  /** GTO's first version (`SemVer.get_minimal()`). */
  firstVersion: 'v0.0.1',
} as const;

// GTO's regexes, transcribed from gto/constants.py. In Python `[a-zA-Z0-9-/_]` holds a literal '-' after the range
// 0-9; here it is escaped. GTO's `buildmetadata` group is `build` here; its `dirname`/`name` groups are not needed.
const NAME = '[a-zA-Z0-9](?:[a-zA-Z0-9\\-/_]*[a-zA-Z0-9])?';
const DIRNAME = '[a-zA-Z0-9\\-_./]+';
const NUMBER = '0|[1-9][0-9]*';
const PRERELEASE_ID = '0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*';
const SEMVER =
  `(?<major>${NUMBER})\\.(?<minor>${NUMBER})\\.(?<patch>${NUMBER})` +
  `(?:-(?<prerelease>(?:${PRERELEASE_ID})(?:\\.(?:${PRERELEASE_ID}))*))?` +
  `(?:\\+(?<build>[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?`;
const NAME_RE = new RegExp(`^${NAME}$`);
const FULLNAME_RE = new RegExp(`^(?:${DIRNAME}:)?${NAME}$`);
const VERSION_RE = new RegExp(`^v${SEMVER}$`);
const TAG_RE = new RegExp(
  `^(?<artifact>(?:${DIRNAME}=)?${NAME})` +
    `(?:(?:#(?<stage>${NAME})|@(?<version>v${SEMVER}))(?<cancel>!?)` +
    `|@(?:(?<deprecated>deprecated)|(?<created>created)))` +
    `(?:#(?<counter>[0-9]+))?$`,
);
/** What makes an ignored tag worth a warning: it uses one of the grammar's marks. */
const LOOKS_LIKE_REGISTRY_TAG = /[@#]/;

const NAME_REGEX_TEXT = '[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?';
const NAME_RULE =
  "a name may contain only ASCII letters, digits, '-', '_' and '/', must start and end with a letter or digit " +
  `and may not contain '//' (GTO's ${NAME_REGEX_TEXT}; git refuses '//')`;
const FOLDER_REGEX_TEXT = '[a-zA-Z0-9-_./]+';
const FOLDER_RULE =
  `a monorepo name is folder:name, where the folder may contain only ASCII letters, digits, '-', '_', '.' and '/' ` +
  `(GTO's ${FOLDER_REGEX_TEXT}) and may not contain '..' or '//', start with '/' or have a part starting with '.' ` +
  `(git refuses those), and the name follows GTO's ${NAME_REGEX_TEXT}`;
const VERSION_RULE =
  "a version must be 'v' followed by SemVer 2.0 (MAJOR.MINOR.PATCH without leading zeros, optionally -prerelease " +
  'and +build), as GTO requires';

export type RegistryEvent =
  /**
   * `counter` is null for GTO's counter-less ("simple") tags, which it writes by default for registrations,
   * deregistrations and deprecations and with `--simple true` for assignments; a number for `...#N`.
   */
  | { kind: 'register'; name: string; version: string; counter: number | null }
  | { kind: 'deregister'; name: string; version: string; counter: number | null }
  | { kind: 'assign'; name: string; env: string; counter: number | null; version?: undefined }
  | { kind: 'unassign'; name: string; env: string; counter: number | null }
  | { kind: 'deprecate'; name: string; counter: number | null };

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease?: string;
  /** Build metadata: kept in the tag, ignored in precedence (SemVer 2.0 §10). */
  build?: string;
}

/** A model or environment name that cannot go into a registry tag. */
export class RegistryNameError extends errorClass('E_REGISTRY_NAME') {}

/** A version that is not GTO's `vX.Y.Z` SemVer. */
export class RegistryVersionError extends errorClass('E_REGISTRY_VERSION') {}

/** A tag counter that is not a whole number ≥ 0. */
export class RegistryCounterError extends errorClass('E_REGISTRY_COUNTER') {}

/** Reads one tag name; null when it is not a registry event (ordinary tags, malformed ones, `name@created`). */
export function parseTag(tag: string): RegistryEvent | null {
  if (typeof tag !== 'string') return null;
  const groups = TAG_RE.exec(tag)?.groups;
  if (!groups) return null;
  const name = groups.artifact.replace(TAG_GRAMMAR.separatorInTag, TAG_GRAMMAR.separatorInName);
  // Only strings that git cannot hold as tag names (`a//b`, `./=m`) fail here: GTO's regex lets them through.
  if (!isValidFullName(name) || (groups.stage !== undefined && !isValidName(groups.stage))) return null;
  let counter: number | null = null;
  if (groups.counter !== undefined) {
    counter = Number(groups.counter);
    if (!Number.isSafeInteger(counter)) return null;
  }
  if (groups.version !== undefined) {
    if (!parseVersion(groups.version)) return null;
    const kind = groups.cancel === TAG_GRAMMAR.cancel ? 'deregister' : 'register';
    return { kind, name, version: groups.version, counter };
  }
  if (groups.stage !== undefined) {
    return { kind: groups.cancel === TAG_GRAMMAR.cancel ? 'unassign' : 'assign', name, env: groups.stage, counter };
  }
  if (groups.deprecated !== undefined) return { kind: 'deprecate', name, counter };
  return null; // `name@created`: GTO's regex has it, but no action
}

/** Writes the tag name for an event, as GTO writes it; `formatTag(parseTag(t)) === t` for every tag GTO writes. */
export function formatTag(event: RegistryEvent): string {
  const artifact = checkModelName(event.name);
  const counter = formatCounter(event);
  switch (event.kind) {
    case 'register':
      return `${artifact}${TAG_GRAMMAR.version}${checkVersion(event.version)}${counter}`;
    case 'deregister':
      return `${artifact}${TAG_GRAMMAR.version}${checkVersion(event.version)}${TAG_GRAMMAR.cancel}${counter}`;
    case 'assign':
      return `${artifact}${TAG_GRAMMAR.stage}${checkEnvName(event.env)}${counter}`;
    case 'unassign':
      return `${artifact}${TAG_GRAMMAR.stage}${checkEnvName(event.env)}${TAG_GRAMMAR.cancel}${counter}`;
    case 'deprecate':
      return `${artifact}${TAG_GRAMMAR.version}${TAG_GRAMMAR.deprecated}${counter}`;
    default: {
      const kind: unknown = (event as { kind?: unknown }).kind;
      throw new RegistryNameError(`Unknown registry event kind ${JSON.stringify(kind)}; use register, deregister, assign, unassign or deprecate`, {
        kind,
      });
    }
  }
}

/**
 * A model or environment name: GTO's `name` regex, and storable in a git tag (git refuses `a//b`). Monorepo model
 * names `folder:name` are checked by `isValidFullName`.
 */
export function isValidName(name: string): boolean {
  return typeof name === 'string' && NAME_RE.test(name) && !name.includes('//');
}

/** A model name as GTO's `fullname`: `name` or `folder:name`, the folder being GTO's `dirname` that git can store. */
export function isValidFullName(name: string): boolean {
  return typeof name === 'string' && FULLNAME_RE.test(name) && gitProblem(name.replace(TAG_GRAMMAR.separatorInName, TAG_GRAMMAR.separatorInTag)) === null;
}

/** GTO's version: `v` + SemVer 2.0 (`v1.2.3`, `v1.0.0-rc.1`, `v3.4.5-pre.2+build.4`); null for anything else. */
export function parseVersion(text: string): SemVer | null {
  if (typeof text !== 'string') return null;
  const groups = VERSION_RE.exec(text)?.groups;
  if (!groups) return null;
  const major = Number(groups.major);
  const minor = Number(groups.minor);
  const patch = Number(groups.patch);
  if (![major, minor, patch].every(Number.isSafeInteger)) return null;
  const v: SemVer = { major, minor, patch };
  if (groups.prerelease !== undefined) v.prerelease = groups.prerelease;
  if (groups.build !== undefined) v.build = groups.build;
  return v;
}

/** `v1.2.3`, with `-prerelease` and `+build` when present. */
export function formatVersion(v: SemVer): string {
  const text =
    `v${v.major}.${v.minor}.${v.patch}` + (v.prerelease !== undefined ? `-${v.prerelease}` : '') + (v.build !== undefined ? `+${v.build}` : '');
  if (!parseVersion(text)) {
    throw new RegistryVersionError(
      `Invalid version ${JSON.stringify(v)}: it would be written '${text}', but ${VERSION_RULE}. ` +
        'Use whole numbers ≥ 0, and prerelease and build parts made of letters, digits and hyphens separated by dots.',
      { value: v },
    );
  }
  return text;
}

/** SemVer 2.0 precedence (§11), as python-semver and so GTO order versions; build metadata does not count. */
export function compareVersions(a: string | SemVer, b: string | SemVer): number {
  const x = typeof a === 'string' ? versionOrThrow(a) : a;
  const y = typeof b === 'string' ? versionOrThrow(b) : b;
  const core = Math.sign(x.major - y.major) || Math.sign(x.minor - y.minor) || Math.sign(x.patch - y.patch);
  if (core !== 0) return core;
  if (x.prerelease === undefined || y.prerelease === undefined) {
    // A version with a prerelease comes before the release itself.
    return x.prerelease === y.prerelease ? 0 : x.prerelease === undefined ? 1 : -1;
  }
  const xs = x.prerelease.split('.');
  const ys = y.prerelease.split('.');
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const c = compareIdentifiers(xs[i], ys[i]);
    if (c !== 0) return c;
  }
  return Math.sign(xs.length - ys.length);
}

/**
 * The next version, as GTO's `register` picks it: the first is v0.0.1 whatever the bump (GTO refuses an explicit
 * bump for the first version; we need no such flag, because the engine always knows the kind of change); later,
 * python-semver's bump, which drops the prerelease and build (`v1.0.0-rc.1` + patch → `v1.0.1`).
 */
export function bumpVersion(previous: string | null, bump: 'major' | 'minor' | 'patch'): string {
  if (previous === null) return TAG_GRAMMAR.firstVersion;
  const v = versionOrThrow(previous);
  switch (bump) {
    case 'major':
      return formatVersion({ major: v.major + 1, minor: 0, patch: 0 });
    case 'minor':
      return formatVersion({ major: v.major, minor: v.minor + 1, patch: 0 });
    case 'patch':
      return formatVersion({ major: v.major, minor: v.minor, patch: v.patch + 1 });
    default:
      throw new RegistryVersionError(`Unknown version bump ${JSON.stringify(bump)}; use major, minor or patch`, { bump });
  }
}

/**
 * Reads every registry event among tag names, in the order given. Ordinary tags (no '@' or '#') are skipped
 * silently; tags that use the marks but are not registry events are skipped with one warning for all of them.
 * Never throws on a tag.
 */
export function parseTags(tags: Iterable<string>, warn?: (message: string) => void): RegistryEvent[] {
  const events: RegistryEvent[] = [];
  const ignored: string[] = [];
  for (const tag of tags) {
    const event = parseTag(tag);
    if (event) events.push(event);
    else if (typeof tag !== 'string' || LOOKS_LIKE_REGISTRY_TAG.test(tag)) ignored.push(typeof tag === 'string' ? tag : String(tag));
  }
  if (ignored.length > 0 && warn) warn(ignoredTagsWarning(ignored));
  return events;
}

/** The counter for the model's next tag: its highest counter on any event (any action, any environment) + 1. */
export function nextCounter(events: Iterable<RegistryEvent>, name: string): number {
  let highest = 0;
  for (const event of events) {
    if (event.name === name && typeof event.counter === 'number' && event.counter > highest) highest = event.counter;
  }
  return highest + 1;
}

const WARN_EXAMPLES = 3;

function ignoredTagsWarning(ignored: readonly string[]): string {
  const shown = ignored.slice(0, WARN_EXAMPLES).map((t) => `'${t}'`);
  const list = ignored.length > WARN_EXAMPLES ? `${shown.join(', ')} and ${ignored.length - WARN_EXAMPLES} more` : shown.join(', ');
  const what =
    ignored.length === 1
      ? 'git tag that looks like a registry tag but is not a GTO registry event'
      : `git tags that look like registry tags but are not GTO registry events`;
  return (
    `Ignored ${ignored.length} ${what}: ${list}. ` +
    'Registry tags are name@vX.Y.Z, name@vX.Y.Z!, name#env#N, name#env!#N and name@deprecated#N; ' +
    'rename or delete these tags if they were meant for the registry.'
  );
}

function compareIdentifiers(a: string, b: string): number {
  const aNumeric = /^[0-9]+$/.test(a);
  const bNumeric = /^[0-9]+$/.test(b);
  if (aNumeric && bNumeric) {
    // Compared as numbers of any size: equal lengths compare as text because there are no leading zeros.
    return Math.sign(a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0);
  }
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function versionOrThrow(text: string): SemVer {
  const v = parseVersion(text);
  if (!v) throw versionError(text);
  return v;
}

function checkVersion(version: string): string {
  if (!parseVersion(version)) throw versionError(version);
  return version;
}

function versionError(value: unknown): RegistryVersionError {
  return new RegistryVersionError(
    `Invalid version ${quote(value)} for a registry tag: ${VERSION_RULE}. Write it as '${suggestVersion(value)}'.`,
    { value, rule: VERSION_RULE, suggestion: suggestVersion(value) },
  );
}

function suggestVersion(value: unknown): string {
  if (typeof value !== 'string') return 'v1.0.0';
  const bare = value.trim().replace(/^[vV]/, '');
  if (parseVersion(`v${bare}`)) return `v${bare}`;
  const numbers = /^([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?$/.exec(bare);
  if (numbers) return `v${Number(numbers[1])}.${Number(numbers[2] ?? 0)}.${Number(numbers[3] ?? 0)}`;
  return 'v1.0.0';
}

function formatCounter(event: RegistryEvent): string {
  const counter: unknown = event.counter;
  if (counter === null || counter === undefined) return '';
  if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 0) {
    throw new RegistryCounterError(
      `Invalid tag counter ${quote(counter)} for model '${event.name}': a counter must be a whole number ≥ 0 (GTO's [0-9]+). ` +
        `Use nextCounter(events, '${event.name}'), the model's highest counter + 1.`,
      { value: counter, name: event.name },
    );
  }
  return `${TAG_GRAMMAR.counter}${counter}`;
}

function checkEnvName(env: string): string {
  if (isValidName(env)) return env;
  throw new RegistryNameError(
    `Invalid environment name ${quote(env)} for a registry tag: ${NAME_RULE}. Rename it, e.g. '${suggestName(env, 'prod')}'.`,
    { value: env, kind: 'env', rule: NAME_REGEX_TEXT, suggestion: suggestName(env, 'prod') },
  );
}

/** Checks a model name and returns it as written in a tag (`folder:name` → `folder=name`). */
function checkModelName(name: string): string {
  if (isValidFullName(name)) return name.replace(TAG_GRAMMAR.separatorInName, TAG_GRAMMAR.separatorInTag);
  const at = typeof name === 'string' ? name.indexOf(TAG_GRAMMAR.separatorInName) : -1;
  if (at < 0) {
    throw new RegistryNameError(
      `Invalid model name ${quote(name)} for a registry tag: ${NAME_RULE}. Rename it, e.g. '${suggestName(name, 'model')}'.`,
      { value: name, kind: 'model', rule: NAME_REGEX_TEXT, suggestion: suggestName(name, 'model') },
    );
  }
  const folder = name.slice(0, at);
  const suggestion = `${suggestFolder(folder)}${TAG_GRAMMAR.separatorInName}${suggestName(name.slice(at + 1), 'model')}`;
  throw new RegistryNameError(
    `Invalid model name ${quote(name)} for a registry tag: ${FOLDER_RULE}. Rename it, e.g. '${suggestion}'.`,
    { value: name, kind: 'model', rule: `${FOLDER_REGEX_TEXT}:${NAME_REGEX_TEXT}`, suggestion },
  );
}

/** Why git cannot store `refs/tags/<fragment>`, for the characters GTO allows; null when it can. */
function gitProblem(fragment: string): string | null {
  if (fragment.includes('..')) return "'..'";
  for (const part of fragment.split('/')) {
    if (part === '') return "'//' or a leading '/'";
    if (part.startsWith('.')) return "a part starting with '.'";
    if (part.endsWith('.lock')) return "a part ending with '.lock'";
  }
  return null;
}

function suggestName(value: unknown, fallback: string): string {
  if (typeof value !== 'string') return fallback;
  const s = value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-zA-Z0-9\-/_]+/g, '-')
    .replace(/\/{2,}/g, '/')
    .replace(/^[^a-zA-Z0-9]+|[^a-zA-Z0-9]+$/g, '');
  return isValidName(s) ? s : fallback;
}

function suggestFolder(value: string): string {
  const s = value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-zA-Z0-9\-_./]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/\/{2,}/g, '/')
    .replace(/(^|\/)\.+/g, '$1')
    .replace(/\.lock(\/|$)/g, '-lock$1')
    .replace(/^\/+/, '');
  return s !== '' && gitProblem(`${s}=x`) === null ? s : 'models';
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
}
