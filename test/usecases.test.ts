// The use-cases are what every face calls; a check in one is a check in all. These run them in-process, with the
// ports a face would give.
import { describe, expect, it } from 'vitest';
import { bumpOption, rollbackTarget, workersOption } from '../src/usecases/options.js';
import type { Ports } from '../src/usecases/ports.js';
import { register } from '../src/usecases/register.js';
import { makeModelRepo } from './helpers/model-repo.js';

const CLI_LABELS = { model: '--model FILE', version: '--version', bump: '--bump' };
const ACTION_LABELS = { model: 'the input model', version: 'the input version', bump: 'the input bump' };

function ports(): Ports & { said: string[] } {
  const said: string[] = [];
  return {
    said,
    git: { env: {}, remote: null },
    log: { info: (m) => said.push(`info: ${m}`), warn: (m) => said.push(`warn: ${m}`) },
    clock: { now: () => 0 },
    versions: { bramble: 'test', node: 'test' },
  };
}

describe('register: one flow, the checks of both faces', () => {
  it.each([
    [CLI_LABELS, '--version and --bump contradict each other; give one'],
    [ACTION_LABELS, 'the input version and the input bump contradict each other; give one'],
  ])('refuses a version with a bump, in the words of the face (%o)', async (labels, message) => {
    const request = { dir: '.', version: 'v1.2.0', bump: 'minor', labels };
    await expect(register(request, ports())).rejects.toMatchObject({ code: 'E_USAGE', message });
  });

  it('refuses a bump that is not major, minor or patch, before anything is read', async () => {
    await expect(register({ dir: '/nonexistent', bump: 'huge', labels: ACTION_LABELS }, ports())).rejects.toMatchObject({
      code: 'E_USAGE',
      message: 'the input bump is "huge"; use major, minor or patch',
    });
  });

  it('says how to get a model when there is none to register', async () => {
    const dir = makeModelRepo({ trees: 3 });
    await expect(register({ dir, labels: ACTION_LABELS }, ports())).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringMatching(/^the model file .*model\.json cannot be read \(ENOENT\); train one first .* or give the input model$/),
    });
  });

  it('trains first when the face asks for it (the CLI), and says so', async () => {
    const dir = makeModelRepo({ trees: 3 });
    const p = ports();
    const { registered, tag, pushedTo } = await register({ dir, workers: 1, trainWhenMissing: true, labels: CLI_LABELS }, p);
    expect({ version: registered.version, tag, pushedTo }).toEqual({ version: 'v1.0.0', tag: 'churn@v1.0.0', pushedTo: null });
    expect(p.said).toEqual([expect.stringMatching(/^info: .*model\.json does not exist; training first$/)]);
  });
});

describe('options every face checks the same way', () => {
  it.each([
    ['', undefined],
    ['4', 4],
  ])('workers %j is %j', (text, workers) => expect(workersOption(text, '--workers')).toBe(workers));

  it.each([
    ['abc', '--workers is "abc"; give a number'],
    ['0', '--workers is "0"; give a whole number of threads ≥ 1, or leave it out for every core'],
    ['1.5', '--workers is "1.5"; give a whole number of threads ≥ 1, or leave it out for every core'],
  ])('workers %j is refused', (text, message) => {
    expect(() => workersOption(text, '--workers')).toThrow(message);
  });

  it('takes a bump or none', () => {
    expect([bumpOption(undefined, '--bump'), bumpOption('', '--bump'), bumpOption('patch', '--bump')]).toEqual([undefined, undefined, 'patch']);
  });

  it.each([
    [undefined, {}],
    ['', {}],
    ['v1.2.0', { version: 'v1.2.0' }],
    ['1.2.0', { version: '1.2.0' }],
    ['2026-11-01', { date: '2026-11-01' }],
  ])('rollback --to %j is %j', (text, target) => expect(rollbackTarget(text)).toEqual(target));
});
