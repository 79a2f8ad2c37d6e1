import { describe, expect, it } from 'vitest';
import {
  bumpVersion,
  compareVersions,
  formatTag,
  formatVersion,
  isValidFullName,
  isValidName,
  nextCounter,
  parseTag,
  parseTags,
  parseVersion,
  type RegistryEvent,
} from '../src/registry/tags.js';

/** The error a call throws, so that a test can assert its code and its whole message. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const NAME_RULE =
  "a name may contain only ASCII letters, digits, '-', '_' and '/', must start and end with a letter or digit and may not contain '//' " +
  "(GTO's [a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?; git refuses '//')";
const VERSION_RULE =
  "a version must be 'v' followed by SemVer 2.0 (MAJOR.MINOR.PATCH without leading zeros, optionally -prerelease and +build), as GTO requires";
const WARNING_TAIL =
  'Registry tags are name@vX.Y.Z, name@vX.Y.Z!, name#env#N, name#env!#N and name@deprecated#N; ' +
  'rename or delete these tags if they were meant for the registry.';

describe('GTO tests/test_tag.py', () => {
  // iterative/gto tests/test_tag.py::test_parse_name, with GTO's dicts as our events.
  it.each<[string, RegistryEvent]>([
    ['path@v1.2.3', { kind: 'register', name: 'path', version: 'v1.2.3', counter: null }],
    ['path@v1.2.3#5', { kind: 'register', name: 'path', version: 'v1.2.3', counter: 5 }],
    ['path@v1.2.3!', { kind: 'deregister', name: 'path', version: 'v1.2.3', counter: null }],
    ['path@v1.2.3!#2', { kind: 'deregister', name: 'path', version: 'v1.2.3', counter: 2 }],
    ['path#stage', { kind: 'assign', name: 'path', env: 'stage', counter: null }],
    ['path#stage#1', { kind: 'assign', name: 'path', env: 'stage', counter: 1 }],
    ['path#stage!#2', { kind: 'unassign', name: 'path', env: 'stage', counter: 2 }],
  ])('test_parse_name: %s', (tag, event) => {
    expect(parseTag(tag)).toStrictEqual(event);
    expect(formatTag(event)).toBe(tag);
  });

  // test_parse_correct_names
  it.each([
    'nn#prod',
    'nn#prod!',
    'nn#prod#1',
    'nn@v1.0.0',
    'nn#prod!#2',
    'nn@v1.0.0!',
    'nn@v1.0.0#1',
    'nn@v1.0.0!#1',
    'nn@v1.0.0-rc.2',
    'nn@v1.0.0-alpha',
    'nn@v1.0.0-alpha.1',
    'nn@v1.0.0-alpha.beta',
    'new-artifact@v1.0.1!',
  ])('test_parse_correct_names: %s parses and round-trips', (tag) => {
    const event = parseTag(tag);
    expect(event).not.toBeNull();
    expect(formatTag(event!)).toBe(tag);
  });

  // test_parse_wrong_names
  it.each([
    '',
    '###',
    '@@@',
    'model@v1',
    'nn#prod#-1',
    'model@v111',
    'model-prod',
    'model@0.0.1',
    'model-prod-v1',
    'model#prod#-1',
    'model#prod#1-2',
    'model#prod?#1-2',
    'model#prod@v1.2.3',
    'model@v1.2.3#prod',
    'model-prod-v1-stage',
    'model@prod@v1@stage-1',
    'namespace/model@0.0.1',
    '@namespace/model@0.0.1',
    'model#prod#v1#stage#1-',
    'model#prod-v1-stage@1-2',
    'model#prod-v1-stage@1-2#@',
  ])('test_parse_wrong_names: %j is not a registry tag', (tag) => {
    expect(parseTag(tag)).toBeNull();
  });

  // test_name_tag: GTO's simple and counted forms for 'myartifact'.
  it.each<[RegistryEvent, string]>([
    [{ kind: 'assign', name: 'myartifact', env: 'stage', counter: null }, 'myartifact#stage'],
    [{ kind: 'assign', name: 'myartifact', env: 'stage', counter: 1 }, 'myartifact#stage#1'],
    [{ kind: 'unassign', name: 'myartifact', env: 'stage', counter: 1 }, 'myartifact#stage!#1'],
    [{ kind: 'register', name: 'myartifact', version: 'v1.0.0', counter: 1 }, 'myartifact@v1.0.0#1'],
    [{ kind: 'deregister', name: 'myartifact', version: 'v1.0.0', counter: 1 }, 'myartifact@v1.0.0!#1'],
  ])('test_name_tag: %j → %s', (event, tag) => {
    expect(formatTag(event)).toBe(tag);
  });

  it("refuses test_name_tag's version 'v1', which GTO writes but its own parser rejects", () => {
    expect(thrown(() => formatTag({ kind: 'register', name: 'myartifact', version: 'v1', counter: null }))).toMatchObject({
      code: 'E_REGISTRY_VERSION',
      message: `Invalid version 'v1' for a registry tag: ${VERSION_RULE}. Write it as 'v1.0.0'.`,
    });
  });
});

describe("GTO's documentation", () => {
  // iterative/mlem.ai content/docs/gto/get-started.md, user-guide.md and command-reference/{assign,deprecate}.md
  it.each<[string, RegistryEvent]>([
    ['cv-class@v0.1.14', { kind: 'register', name: 'cv-class', version: 'v0.1.14', counter: null }],
    ['cv-class#dev#1', { kind: 'assign', name: 'cv-class', env: 'dev', counter: 1 }],
    ['awesome-model@v0.0.1', { kind: 'register', name: 'awesome-model', version: 'v0.0.1', counter: null }],
    ['awesome-model#prod#1', { kind: 'assign', name: 'awesome-model', env: 'prod', counter: 1 }],
    ['awesome-model#prod!#2', { kind: 'unassign', name: 'awesome-model', env: 'prod', counter: 2 }],
    ['awesome-model@v0.0.1!', { kind: 'deregister', name: 'awesome-model', version: 'v0.0.1', counter: null }],
    ['awesome-model@deprecated', { kind: 'deprecate', name: 'awesome-model', counter: null }],
    ['churn@v3.1.1', { kind: 'register', name: 'churn', version: 'v3.1.1', counter: null }],
    ['churn@v3.0.0', { kind: 'register', name: 'churn', version: 'v3.0.0', counter: null }],
    // user-guide.md "Git tags format": the five templates with #{e}.
    ['churn@v1.2.3#4', { kind: 'register', name: 'churn', version: 'v1.2.3', counter: 4 }],
    ['churn@v1.2.3!#5', { kind: 'deregister', name: 'churn', version: 'v1.2.3', counter: 5 }],
    ['churn#prod#6', { kind: 'assign', name: 'churn', env: 'prod', counter: 6 }],
    ['churn#prod!#7', { kind: 'unassign', name: 'churn', env: 'prod', counter: 7 }],
    ['churn@deprecated#8', { kind: 'deprecate', name: 'churn', counter: 8 }],
  ])('%s', (tag, event) => {
    expect(parseTag(tag)).toStrictEqual(event);
    expect(formatTag(event)).toBe(tag);
  });
});

describe('names (GTO tests/test_constants.py)', () => {
  it.each(['1', 'm', 'nn', 'm1', '1nn', 'model-prod', 'model-prod-v1', 'model_prod_v1', 'dvclive/model', 'model_A', 'DVCLive/Model'])(
    'test_check_name_is_valid: %s',
    (name) => {
      expect(isValidName(name)).toBe(true);
      expect(isValidFullName(name)).toBe(true);
    },
  );

  it.each(['', 'm/', '/m', '###', '@@@', 'a model', '_model', '-model', 'model-', 'model@1', 'model#1', '@namespace/model'])(
    'test_check_name_is_invalid: %j',
    (name) => {
      expect(isValidName(name)).toBe(false);
      expect(isValidFullName(name)).toBe(false);
    },
  );

  it.each(['model', 'dvclive:model', 'some/folder:some/model', 'some/Other_Folder:some/model'])('test_check_fullname_is_valid: %s', (name) => {
    expect(isValidFullName(name)).toBe(true);
  });

  it('refuses a folder in an environment name, and names git cannot hold as tags', () => {
    expect(isValidName('dvclive:model')).toBe(false);
    expect(isValidName('a//b')).toBe(false);
    expect(isValidFullName('../x:churn')).toBe(false);
    expect(isValidFullName('.hidden:churn')).toBe(false);
    expect(isValidFullName('x.lock/y:churn')).toBe(false);
    expect(isValidName('modèle')).toBe(false);
  });

  // test_check_fullname_in_tag_is_valid: monorepo names are written folder=name in tags and read back with ':'.
  it.each<[string, RegistryEvent]>([
    ['dvclive=model@v1.0.0', { kind: 'register', name: 'dvclive:model', version: 'v1.0.0', counter: null }],
    ['some/folder=some/model#prod#3', { kind: 'assign', name: 'some/folder:some/model', env: 'prod', counter: 3 }],
    ['Some/folder/A=model@deprecated', { kind: 'deprecate', name: 'Some/folder/A:model', counter: null }],
    ['Some/folder/A=Model@v0.1.0!#2', { kind: 'deregister', name: 'Some/folder/A:Model', version: 'v0.1.0', counter: 2 }],
  ])('%s', (tag, event) => {
    expect(parseTag(tag)).toStrictEqual(event);
    expect(formatTag(event)).toBe(tag);
  });

  it("round-trips names with '/', which the version's '@' cannot be confused with", () => {
    expect(parseTag('models/churn@v1.2.3')).toStrictEqual({ kind: 'register', name: 'models/churn', version: 'v1.2.3', counter: null });
    expect(formatTag({ kind: 'register', name: 'models/churn', version: 'v1.2.3', counter: null })).toBe('models/churn@v1.2.3');
    expect(formatTag({ kind: 'assign', name: 'team/churn', env: 'eu/prod', counter: 12 })).toBe('team/churn#eu/prod#12');
    expect(parseTag('team/churn#eu/prod#12')).toStrictEqual({ kind: 'assign', name: 'team/churn', env: 'eu/prod', counter: 12 });
  });
});

describe('formatTag refuses what GTO cannot read', () => {
  it.each<[string, string, string]>([
    ['-churn', 'churn', 'leading -'],
    ['churn/', 'churn', 'trailing /'],
    ['', 'model', 'empty'],
    ['my model', 'my-model', 'space'],
    ['modèle', 'modele', 'accented letter'],
    ['模型', 'model', 'no ASCII at all'],
    ['a//b', 'a/b', 'double slash'],
  ])('model name %j (%s)', (name, suggestion) => {
    const err = thrown(() => formatTag({ kind: 'register', name, version: 'v1.0.0', counter: null }));
    expect(err).toMatchObject({
      code: 'E_REGISTRY_NAME',
      message: `Invalid model name '${name}' for a registry tag: ${NAME_RULE}. Rename it, e.g. '${suggestion}'.`,
      data: { value: name, kind: 'model', suggestion },
    });
  });

  it('environment name', () => {
    expect(thrown(() => formatTag({ kind: 'assign', name: 'churn', env: 'prod!', counter: 1 }))).toMatchObject({
      code: 'E_REGISTRY_NAME',
      message: `Invalid environment name 'prod!' for a registry tag: ${NAME_RULE}. Rename it, e.g. 'prod'.`,
    });
    expect(thrown(() => formatTag({ kind: 'unassign', name: 'churn', env: 'dvclive:prod', counter: 1 }))).toMatchObject({
      code: 'E_REGISTRY_NAME',
      message: `Invalid environment name 'dvclive:prod' for a registry tag: ${NAME_RULE}. Rename it, e.g. 'dvclive-prod'.`,
    });
  });

  it('monorepo folder', () => {
    expect(thrown(() => formatTag({ kind: 'deprecate', name: '../x:churn', counter: null }))).toMatchObject({
      code: 'E_REGISTRY_NAME',
      message:
        "Invalid model name '../x:churn' for a registry tag: a monorepo name is folder:name, where the folder may contain only " +
        "ASCII letters, digits, '-', '_', '.' and '/' (GTO's [a-zA-Z0-9-_./]+) and may not contain '..' or '//', start with '/' " +
        "or have a part starting with '.' (git refuses those), and the name follows GTO's [a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?. " +
        "Rename it, e.g. 'x:churn'.",
    });
  });

  it.each<[string, string]>([
    ['1.2.3', 'v1.2.3'],
    ['v1.2', 'v1.2.0'],
    ['V1.2.3', 'v1.2.3'],
    ['v01.2.3', 'v1.2.3'],
    ['latest', 'v1.0.0'],
  ])('version %j', (version, suggestion) => {
    expect(thrown(() => formatTag({ kind: 'deregister', name: 'churn', version, counter: null }))).toMatchObject({
      code: 'E_REGISTRY_VERSION',
      message: `Invalid version '${version}' for a registry tag: ${VERSION_RULE}. Write it as '${suggestion}'.`,
    });
  });

  it.each([-1, 1.5, Number.NaN])('counter %s', (counter) => {
    expect(thrown(() => formatTag({ kind: 'assign', name: 'churn', env: 'prod', counter }))).toMatchObject({
      code: 'E_REGISTRY_COUNTER',
      message:
        `Invalid tag counter ${JSON.stringify(counter)} for model 'churn': a counter must be a whole number ≥ 0 (GTO's [0-9]+). ` +
        "Use nextCounter(events, 'churn'), the model's highest counter + 1.",
    });
  });
});

describe('tags that are not registry events', () => {
  it.each(['v1.0', 'release-3', 'v1.0.0', '1.2.3', 'latest', 'churn'])('ordinary tag %s → null, no warning', (tag) => {
    expect(parseTag(tag)).toBeNull();
    const warnings: string[] = [];
    expect(parseTags([tag], (m) => warnings.push(m))).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it.each([
    'churn@v1.2',
    'churn#prod#x',
    'churn@vX',
    'churn@created', // GTO's regex accepts it but gives it no action
    'churn#prod#99999999999999999999', // a counter past 2^53 - 1
    'churn@v1.2.3\n',
    'a//b@v1.0.0', // GTO's regex accepts it; git cannot hold it
  ])('malformed registry-looking tag %j → null', (tag) => {
    expect(parseTag(tag)).toBeNull();
  });

  it('reads a counter with leading zeros as GTO does, and writes it canonically', () => {
    expect(parseTag('churn#prod#01')).toStrictEqual({ kind: 'assign', name: 'churn', env: 'prod', counter: 1 });
    expect(formatTag(parseTag('churn#prod#01')!)).toBe('churn#prod#1');
  });

  it('parseTags keeps the events in order and warns once for all malformed tags', () => {
    const warnings: string[] = [];
    const events = parseTags(
      ['v1.0', 'churn@v1.2', 'churn@v1.0.0', 'churn#prod#x', 'release-3', 'churn@vX', 'churn#prod#1', 'churn@created', 'x@y'],
      (m) => warnings.push(m),
    );
    expect(events).toStrictEqual([
      { kind: 'register', name: 'churn', version: 'v1.0.0', counter: null },
      { kind: 'assign', name: 'churn', env: 'prod', counter: 1 },
    ]);
    expect(warnings).toStrictEqual([
      "Ignored 5 git tags that look like registry tags but are not GTO registry events: 'churn@v1.2', 'churn#prod#x', 'churn@vX' and 2 more. " +
        WARNING_TAIL,
    ]);
  });

  it('parseTags names a single malformed tag in the singular, and never throws without a warn callback', () => {
    const warnings: string[] = [];
    parseTags(['churn@v1.2'], (m) => warnings.push(m));
    expect(warnings).toStrictEqual([
      "Ignored 1 git tag that looks like a registry tag but is not a GTO registry event: 'churn@v1.2'. " + WARNING_TAIL,
    ]);
    expect(parseTags(['churn@v1.2', '@@@', '###', 'churn@v1.0.0'])).toStrictEqual([
      { kind: 'register', name: 'churn', version: 'v1.0.0', counter: null },
    ]);
    expect(parseTags([null as unknown as string, 'churn@v1.0.0'])).toHaveLength(1);
  });

  it('parseTags reads any iterable', () => {
    function* tags() {
      yield 'churn@v1.0.0';
      yield 'churn#prod#1';
    }
    expect(parseTags(tags()).map((e) => e.kind)).toEqual(['register', 'assign']);
  });
});

describe('versions (GTO tests/test_versions.py and SemVer 2.0)', () => {
  it.each(['v0.1.2', 'v3.4.5-pre.2+build.4', 'v3.4.5-pre.2-build.4'])('test_semver_is_valid: %s', (v) => {
    expect(parseVersion(v)).not.toBeNull();
    expect(formatVersion(parseVersion(v)!)).toBe(v);
  });

  it.each(['1', 'v1', 'v1.2', '0.1.2', '3.4.5-pre.2+build.4', 'V1.2.3', 'v1.2.3-01', 'v1.2.3+', ''])('test_semver_is_not_valid: %j', (v) => {
    expect(parseVersion(v)).toBeNull();
  });

  it('parses the parts', () => {
    expect(parseVersion('v1.2.3')).toStrictEqual({ major: 1, minor: 2, patch: 3 });
    expect(parseVersion('v1.0.0-rc.1+build.5')).toStrictEqual({ major: 1, minor: 0, patch: 0, prerelease: 'rc.1', build: 'build.5' });
    expect(formatVersion({ major: 1, minor: 2, patch: 3 })).toBe('v1.2.3');
    expect(formatVersion({ major: 2, minor: 0, patch: 0, prerelease: 'beta.2' })).toBe('v2.0.0-beta.2');
  });

  it('formatVersion refuses a version GTO cannot read', () => {
    expect(thrown(() => formatVersion({ major: 1, minor: 0, patch: 0, prerelease: 'rc 1' }))).toMatchObject({
      code: 'E_REGISTRY_VERSION',
      message:
        `Invalid version {"major":1,"minor":0,"patch":0,"prerelease":"rc 1"}: it would be written 'v1.0.0-rc 1', but ${VERSION_RULE}. ` +
        'Use whole numbers ≥ 0, and prerelease and build parts made of letters, digits and hyphens separated by dots.',
    });
  });

  it('test_semver_comparison and numeric (not text) order', () => {
    expect(compareVersions('v1.3.2', 'v1.3.3')).toBe(-1);
    expect(compareVersions('v1.2.4', 'v1.2.4')).toBe(0);
    expect(compareVersions('v1.3.4', 'v2.0.0')).toBe(-1);
    expect(compareVersions('v1.10.0', 'v1.9.0')).toBe(1);
    expect(compareVersions({ major: 0, minor: 0, patch: 10 }, 'v0.0.9')).toBe(1);
    expect(compareVersions('v1.0.0+build.1', 'v1.0.0+build.2')).toBe(0);
  });

  it('orders prereleases before the release, as SemVer 2.0 §11 lists them', () => {
    const ordered = [
      'v1.0.0-alpha',
      'v1.0.0-alpha.1',
      'v1.0.0-alpha.beta',
      'v1.0.0-beta',
      'v1.0.0-beta.2',
      'v1.0.0-beta.11',
      'v1.0.0-rc.1',
      'v1.0.0',
      'v1.0.1',
      'v1.10.0',
    ];
    const shuffled = [...ordered].reverse();
    [shuffled[2], shuffled[7]] = [shuffled[7], shuffled[2]];
    expect(shuffled.sort(compareVersions)).toEqual(ordered);
    expect(compareVersions('v1.0.0-rc.1', 'v1.0.0')).toBe(-1);
    expect(compareVersions('v1.0.0', 'v1.0.0-rc.1')).toBe(1);
    expect(compareVersions('v1.0.0-99999999999999999999', 'v1.0.0-100')).toBe(1);
  });

  it('refuses to compare what is not a version', () => {
    expect(thrown(() => compareVersions('v1.0', 'v1.0.0'))).toMatchObject({
      code: 'E_REGISTRY_VERSION',
      message: `Invalid version 'v1.0' for a registry tag: ${VERSION_RULE}. Write it as 'v1.0.0'.`,
    });
  });

  it('test_bump_semver, and the first version is v0.0.1 (GTO SemVer.get_minimal)', () => {
    expect(bumpVersion('v1.3.4', 'major')).toBe('v2.0.0');
    expect(bumpVersion('v1.3.4', 'minor')).toBe('v1.4.0');
    expect(bumpVersion('v1.3.4', 'patch')).toBe('v1.3.5');
    expect(bumpVersion('v1.9.9', 'minor')).toBe('v1.10.0');
    expect(bumpVersion('v1.0.0-rc.1+b.2', 'patch')).toBe('v1.0.1');
    expect(bumpVersion(null, 'major')).toBe('v0.0.1');
    expect(bumpVersion(null, 'minor')).toBe('v0.0.1');
    expect(bumpVersion(null, 'patch')).toBe('v0.0.1');
    expect(thrown(() => bumpVersion('1.0.0', 'patch'))).toMatchObject({ code: 'E_REGISTRY_VERSION' });
  });
});

describe('nextCounter (GTO gto/tag.py name_tag)', () => {
  const events = parseTags([
    'churn@v1.0.0',
    'churn#prod#1',
    'churn#staging#2',
    'churn@v1.1.0#5',
    'churn#prod!#3',
    'churn@deprecated#4',
    'other#prod#9',
    'dvclive=churn#prod#20',
  ]);

  it("is the model's highest counter on any action or environment, plus one", () => {
    expect(nextCounter(events, 'churn')).toBe(6);
    expect(nextCounter(events, 'other')).toBe(10);
    expect(nextCounter(events, 'dvclive:churn')).toBe(21);
  });

  it('is 1 for a model with no counted tags', () => {
    expect(nextCounter([], 'churn')).toBe(1);
    expect(nextCounter(parseTags(['new@v0.0.1', 'new#prod']), 'new')).toBe(1);
    expect(nextCounter(events, 'unknown')).toBe(1);
  });
});

describe('round trip', () => {
  const names = ['churn', 'm', 'models/churn', 'Team_A/churn-v2', 'dvclive:model', 'some/folder.v2:some/model'];
  const counters = [null, 0, 1, 42];
  const events: RegistryEvent[] = names.flatMap((name) =>
    counters.flatMap((counter): RegistryEvent[] => [
      { kind: 'register', name, version: 'v1.2.3-rc.1+sha.abc', counter },
      { kind: 'deregister', name, version: 'v10.0.0', counter },
      { kind: 'assign', name, env: 'prod', counter },
      { kind: 'unassign', name, env: 'eu/staging_2', counter },
      { kind: 'deprecate', name, counter },
    ]),
  );

  it('parseTag(formatTag(e)) equals e, and formatTag(parseTag(t)) equals t', () => {
    expect(events).toHaveLength(120);
    for (const event of events) {
      const tag = formatTag(event);
      expect(parseTag(tag)).toStrictEqual(event);
      expect(formatTag(parseTag(tag)!)).toBe(tag);
    }
  });
});
