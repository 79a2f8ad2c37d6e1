// ml.yaml → forest options: one typed function, and the forest's rules across keys checked when ml.yaml loads, at
// the line of the key they name (they used to surface at training time, without a place).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forestOptionsOf } from '../src/config/forest-options.js';
import { ConfigError, loadMlYaml } from '../src/config/ml-yaml.js';
import { exitCodeOf } from '../src/errors.js';
import { resolveForestParams } from '../src/model/forest/options.js';

const TEMPLATE = join(import.meta.dirname, '../templates/model-repo/ml.yaml');

function document(task: string, params: string): string {
  return `name: churn
task: ${task}
data:
  train: data/churn.csv
  target: Churn
model:
  type: random-forest
  params:
${params}
  seed: 7
`;
}

describe('forestOptionsOf', () => {
  it('maps every model setting of the template to the option of the same name, task and seed included', () => {
    const config = loadMlYaml(readFileSync(TEMPLATE, 'utf8'));
    // Every key of model.params (the schema fills in its defaults) arrives under its own name.
    expect(forestOptionsOf(config)).toEqual({ task: 'classification', seed: 7, ...config.model.params });
    expect(Object.keys(config.model.params)).toHaveLength(8);
    // maxFeatures left out: the forest picks it by task.
    expect(resolveForestParams(forestOptionsOf(config)).maxFeatures).toBe('sqrt');
  });

  it('passes maxFeatures through when ml.yaml gives it', () => {
    const config = loadMlYaml(document('regression', '    maxFeatures: 0.5'));
    expect(forestOptionsOf(config)).toMatchObject({ task: 'regression', maxFeatures: 0.5 });
  });
});

describe('forest rules across keys, checked when ml.yaml loads', () => {
  it.each([
    [
      'maxSamples with bootstrap: false',
      document('classification', '    bootstrap: false\n    maxSamples: 0.5'),
      'ml.yaml:10:17 model.params.maxSamples: is 0.5; allowed: null when bootstrap is false (it sizes the bootstrap sample)',
    ],
    [
      'classWeight on a regression',
      document('regression', '    trees: 10\n    classWeight: balanced'),
      'ml.yaml:10:18 model.params.classWeight: is "balanced"; allowed: null for regression',
    ],
  ])('%s is a located ml.yaml problem (exit 2)', (_, text, message) => {
    expect(() => loadMlYaml(text)).toThrow(expect.objectContaining({ code: 'E_CONFIG', message }));
    expect(exitCodeOf(new ConfigError('ml.yaml', [{ line: 10, col: 17, path: 'model.params.maxSamples', message }]))).toBe(2);
  });

  it('accepts maxSamples with bootstrap on', () => {
    expect(loadMlYaml(document('classification', '    bootstrap: true\n    maxSamples: 0.5')).model.params.maxSamples).toBe(0.5);
  });
});
