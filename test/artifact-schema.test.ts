import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACT, ArtifactError, openArtifact } from '../src/model/artifact.js';
import { ARTIFACT_SCHEMA_ID, validateArtifact } from '../src/model/artifact-schema.js';
import { SCHEMAS, schemaValidator } from '../src/schemas.js';
import { runPipeline, type RunOptions } from '../src/pipeline/run.js';
import modelSchema from '../schemas/model.schema.json' with { type: 'json' };

const template = join(import.meta.dirname, '../templates/model-repo');
const options: RunOptions = { workers: 1, now: () => 0, versions: { bramble: 'test', node: 'test' } };

type Json = Record<string, unknown>;

/** The object at a path of keys, which a damage case then edits in place. */
function at(value: Json, ...keys: string[]): Json {
  let node: unknown = value;
  for (const key of keys) node = (node as Json)[key];
  if (node === null || typeof node !== 'object') throw new Error(`no object at ${keys.join('.')}`);
  return node as Json;
}

/** The error validateArtifact throws, or a failure when it throws none. */
function problemsOf(value: unknown, file: string): ArtifactError {
  try {
    validateArtifact(value, file);
  } catch (err) {
    if (err instanceof ArtifactError) return err;
    throw err;
  }
  throw new Error('validateArtifact accepted a damaged artifact');
}

describe('schemas/model.schema.json', () => {
  let text: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-artifact-schema-'));
    cpSync(template, dir, { recursive: true, filter: (src) => !src.includes(ARTIFACT.folder) });
    const result = await runPipeline(dir, options);
    if (!result.artifact) throw new Error('the template did not train');
    text = readFileSync(result.artifact.path, 'utf8');
  });

  const fresh = (): Json => JSON.parse(text) as Json;

  it('compiles in ajv strict mode', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    ajv.addKeyword('x-expected');
    ajv.addSchema(modelSchema);
    expect(modelSchema.$id).toBe(ARTIFACT_SCHEMA_ID);
    expect(typeof ajv.getSchema(ARTIFACT_SCHEMA_ID)).toBe('function');
  });

  it('accepts the artifact that bramble run writes for the template', () => {
    const artifact = openArtifact(text, 'model.json');
    expect(artifact.format).toBe('bramble-model');
    expect(() => validateArtifact(artifact, 'model.json')).not.toThrow();
  });

  it('refuses a __proto__ key, which would otherwise fall outside the sha256', () => {
    // Added as JSON text, as an attacker would: JSON.parse makes it an own key.
    const tampered = text.replace('{"estimator":', '{"__proto__":{"forged":true},"estimator":');
    expect(tampered).not.toBe(text);
    expect(() => openArtifact(tampered, 'prod/model.json')).toThrow(
      'prod/model.json has a key named "__proto__" at /__proto__, which no Bramble model has; the file was tampered with — restore it from the registry',
    );
    const nested = text.replace('"lineage":{', '"lineage":{"__proto__":{"x":1},');
    expect(() => openArtifact(nested, 'm.json')).toThrow('at /lineage/__proto__');
  });

  it('hashes every own key: the canonical form keeps a __proto__ key rather than dropping it', async () => {
    const { canonicalJSON } = await import('../src/model/artifact.js');
    expect(canonicalJSON(JSON.parse('{"b":1,"__proto__":{"x":2},"a":3}'))).toBe('{"__proto__":{"x":2},"a":3,"b":1}');
  });

  it('accepts lineage from git: a commit, or none yet', () => {
    const artifact = fresh();
    const workTree = 'a'.repeat(64);
    at(artifact, 'lineage').source = { commit: '0123456789abcdef0123456789abcdef01234567', committedAt: '2024-05-01T12:00:00Z', path: '.', dirty: true, changes: ['ml.yaml'], workTree };
    expect(() => validateArtifact(artifact, 'model.json')).not.toThrow();
    at(artifact, 'lineage').source = { commit: null, committedAt: null, path: 'models/churn', dirty: false, workTree };
    expect(() => validateArtifact(artifact, 'model.json')).not.toThrow();
  });

  it.each<{ name: string; damage: (a: Json) => void; message: string }>([
    {
      name: 'a missing signature',
      damage: (a) => delete a.signature,
      message: 'model.json#/signature: is missing; a model artifact needs it',
    },
    {
      name: 'a float32 threshold array',
      damage: (a) => (at(a, 'estimator', 'trees', 'threshold').dtype = 'float32'),
      message: 'model.json#/estimator/trees/threshold/dtype: must be "float64" (got "float32")',
    },
    {
      name: 'a data sha256 that is not hex',
      damage: (a) => (at(a, 'lineage', 'data').sha256 = 'not-a-sha256'),
      message: 'model.json#/lineage/data/sha256: must be 64 lower-case hex digits (got "not-a-sha256")',
    },
    {
      name: 'an extra top-level key',
      damage: (a) => (a.trainedAt = '2024-05-01'),
      message: 'model.json#/trainedAt: is not part of the format; allowed: format, version, name, task, signature, features, estimator, metrics, profile, samples, lineage, sha256',
    },
    {
      name: 'a typo in a top-level key',
      damage: (a) => {
        a.lineages = a.lineage;
        delete a.lineage;
      },
      message: 'model.json#/lineage: is missing; a model artifact needs it\nmodel.json#/lineages: is not part of the format; did you mean "lineage"?',
    },
    {
      name: 'a git commit that is not 40 hex digits',
      damage: (a) => (at(a, 'lineage').source = { commit: 'abc123', committedAt: null, path: '.', dirty: false, workTree: 'b'.repeat(64) }),
      message: 'model.json#/lineage/source/commit: must be a 40-hex commit id or null (got "abc123")',
    },
    {
      name: 'a maxFeatures that is neither a name nor a number',
      damage: (a) => (at(a, 'estimator', 'params').maxFeatures = 'half'),
      message: 'model.json#/estimator/params/maxFeatures: must be one of "sqrt", "log2", "all" or a number > 0 (got "half")',
    },
  ])('rejects $name, naming the place', ({ damage, message }) => {
    const artifact = fresh();
    damage(artifact);
    const err = problemsOf(artifact, 'model.json');
    expect(err).toMatchObject({ code: 'E_ARTIFACT' });
    expect(err.message).toBe(message);
  });

  it('lists at most ten problems, then how many more', () => {
    const artifact = fresh();
    for (let i = 0; i < 12; i++) artifact[`extra${i}`] = i;
    const lines = problemsOf(artifact, 'model.json').message.split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('model.json#/extra0: is not part of the format; allowed: format, version, name, task, signature, features, estimator, metrics, profile, samples, lineage, sha256');
    expect(lines[10]).toBe('and 2 more');
  });
});

describe('schemas/', () => {
  it.each(readdirSync(join(import.meta.dirname, '../schemas')))('%s compiles in ajv strict mode, in the one shared instance', (file) => {
    const schema = JSON.parse(readFileSync(join(import.meta.dirname, '../schemas', file), 'utf8')) as { $id: string };
    expect(Object.keys(SCHEMAS)).toContain(schema.$id);
    expect(() => schemaValidator(schema.$id)).not.toThrow();
  });
});
