// Release roles in the registry's grammar (src/registry/roles.ts): role stages, the tag message's trailers, the
// checks that make bad input a located exit-2 error, and what a pipeline does with a role's tag (it deploys
// nothing: the hosts that follow git take it).
import { describe, expect, it } from 'vitest';
import { loadMlYaml } from '../src/config/ml-yaml.js';
import { exitCodeOf } from '../src/errors.js';
import type { EventContext } from '../src/platform/types.js';
import { checkCanary, parseRole, readCanaryTrailers, releaseTrailers, roleStage, stageRole } from '../src/registry/roles.js';
import { parseTag } from '../src/registry/tags.js';
import { resolveAssignment } from '../src/usecases/deploy.js';
import { targetOf } from '../src/usecases/target.js';

describe('role stages', () => {
  it.each([
    ['prod', 'canary', 'prod-canary'],
    ['prod', 'shadow', 'prod-shadow'],
    ['eu-prod', 'canary', 'eu-prod-canary'],
    ['prod', 'main', 'prod'],
  ] as const)('%s as %s is the GTO stage %s, and back', (env, role, stage) => {
    expect(roleStage(env, role)).toBe(stage);
    expect(stageRole(stage)).toEqual({ env, role });
    // A valid GTO stage: the tag parses as an ordinary assignment.
    expect(parseTag(`churn#${stage}#4`)).toEqual({ kind: 'assign', name: 'churn', env: stage, counter: 4 });
  });

  it('reads a bare role name as an environment, not an empty one', () => {
    expect(stageRole('-canary')).toEqual({ env: '-canary', role: 'main' });
    expect(stageRole('canary')).toEqual({ env: 'canary', role: 'main' });
  });
});

describe('the tag message', () => {
  it("records a canary's weight and stickiness, and reads them back", () => {
    const text = `Assigning stage prod-canary to artifact churn version v1.1.0\n\nBramble-Version: v1.1.0\n${releaseTrailers('canary', { weight: 0.25, sticky: 'header:X-Client-Id' })}`;
    expect(text).toContain('Bramble-Role: canary\nBramble-Weight: 0.25\nBramble-Sticky: header:X-Client-Id\n');
    expect(readCanaryTrailers(text)).toEqual({ weight: 0.25, sticky: 'header:X-Client-Id' });
    expect(releaseTrailers('shadow', null)).toBe('Bramble-Role: shadow\n');
    expect(releaseTrailers('main', null)).toBe('');
  });

  it.each(['Bramble-Weight: 1.5', 'Bramble-Weight: -0.1', 'Bramble-Weight: lots', 'Bramble-Weight: 0.1\nBramble-Sticky: cookie'])('reads no settings from %j', (trailers) => {
    expect(readCanaryTrailers(`x\n\n${trailers}\n`)).toBeNull();
  });
});

describe('bad input is a located exit-2 error', () => {
  it.each([
    [() => parseRole('canry', '--role'), '--role: unknown role "canry"; did you mean canary?'],
    [() => parseRole('main', '--role'), 'the main version takes no --role'],
    [() => checkCanary({ weight: 1.5, sticky: 'id' }, 'ml.yaml environments.prod.canary'), 'ml.yaml environments.prod.canary: weight must be a number from 0 to 1'],
    [() => checkCanary({ weight: 0.1, sticky: 'cookie' }, 'x.meta.json'), 'x.meta.json: sticky must be "id" or "header:NAME"'],
  ])('%#', (run, message) => {
    let caught: unknown;
    try {
      run();
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'E_RELEASE' });
    expect((caught as Error).message).toContain(message);
    expect(exitCodeOf(caught)).toBe(2);
  });
});

describe("a role's tag in a pipeline", () => {
  const config = loadMlYaml(
    'name: churn\ntask: classification\ndata: { train: d.csv, target: y }\nmodel: { type: random-forest }\nenvironments:\n  prod: { branch: main, canary: { weight: 0.1 } }\n',
    'ml.yaml',
  );
  const event = (ref: string): EventContext => ({ kind: 'tag', repository: 'acme/churn', sha: null, ref, pullRequest: null, actor: null, runUrl: null });

  it('fills in sticky: id', () => {
    expect(config.environments.prod.canary).toEqual({ weight: 0.1, sticky: 'id' });
  });

  it('deploys nothing for a canary or shadow tag, and prod for a main one', () => {
    expect(targetOf(config, event('churn#prod-canary#3'), '').environment).toBe('');
    expect(targetOf(config, event('churn#prod-shadow#4'), '').environment).toBe('');
    expect(targetOf(config, event('churn#prod#5'), '').environment).toBe('prod');
  });

  it('refuses to deploy a role tag by hand, saying who takes it', async () => {
    await expect(resolveAssignment('/nonexistent', 'churn#prod-canary#3', { git: { env: {}, remote: null }, log: { info() {}, warn() {} } })).rejects.toThrow(
      "the tag churn#prod-canary#3 names prod's canary, which the hosts that follow git take on their next sync (POST /admin/sync); bramble deploy puts main versions only",
    );
  });
});
