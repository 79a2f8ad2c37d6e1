// One ajv instance for every schema in schemas/: each is compiled once, on first use, and kept by its `$id`.
// ajv runs in strict mode, so a schema that says something ajv would silently ignore fails to compile (and a
// test compiles them all). `useDefaults` fills in ml.yaml's defaults; the other schemas declare none.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { AnySchema, ValidateFunction } from 'ajv';
import mlSchema from '../schemas/ml.schema.json' with { type: 'json' };
import modelSchema from '../schemas/model.schema.json' with { type: 'json' };
import validationSchema from '../schemas/validation.schema.json' with { type: 'json' };
import registryIndexSchema from '../schemas/registry-index.schema.json' with { type: 'json' };
import serveSchema from '../schemas/serve.schema.json' with { type: 'json' };
import runRecordSchema from '../schemas/run-record.schema.json' with { type: 'json' };
import featuresSchema from '../schemas/features.schema.json' with { type: 'json' };

/** Every schema Bramble writes or reads, by `$id`. */
export const SCHEMAS: Readonly<Record<string, AnySchema>> = Object.fromEntries(
  [mlSchema, modelSchema, validationSchema, registryIndexSchema, serveSchema, runRecordSchema, featuresSchema].map((schema) => [schema.$id, schema as AnySchema]),
);

let ajv: Ajv2020 | undefined;

function instance(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ strict: true, allErrors: true, verbose: true, useDefaults: true, allowUnionTypes: true });
  // A human phrase for what a pattern means: the docs and the error messages show it instead of the regex.
  ajv.addKeyword('x-expected');
  // Added, not compiled: a schema compiles on first use, and one may $ref another (features.yaml's columns are
  // ml.yaml's), which ajv resolves only among the schemas it holds.
  for (const schema of Object.values(SCHEMAS)) ajv.addSchema(schema);
  return ajv;
}

/** The compiled validator of the schema with this `$id`. */
export function schemaValidator(id: string): ValidateFunction {
  const shared = instance();
  // A part of one (`model.schema.json#/$defs/profile`) is looked up by its schema's $id and the fragment.
  if (!SCHEMAS[id.split('#')[0]]) throw new Error(`no schema with $id ${id}; known: ${Object.keys(SCHEMAS).join(', ')}`);
  const validate = shared.getSchema(id);
  if (!validate) throw new Error(`${id} did not compile`);
  return validate;
}

/**
 * Compiles a schema made at run time (a served model's input record), in the same strict instance. It is not
 * kept in ajv's cache: a server that deploys a hundred models must not hold a hundred validators.
 */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const shared = instance();
  const validate = shared.compile(schema);
  shared.removeSchema(schema);
  return validate;
}
