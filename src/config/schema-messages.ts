// What ajv's errors about ml.yaml mean, as messages a person can act on: the branch of an anyOf the value was
// meant for, the key they probably meant, what the schema accepts as a phrase after "must be".
import type { ErrorObject } from 'ajv';
import { nearest } from '../errors.js';
import mlSchema from '../../schemas/ml.schema.json' with { type: 'json' };
import type { Finding, Segment } from './positions.js';

/** The parts of a JSON Schema node this module reads. */
interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: SchemaNode[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  propertyNames?: SchemaNode;
  required?: string[];
  items?: SchemaNode;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minProperties?: number;
  maxProperties?: number;
  minItems?: number;
  'x-expected'?: string;
}

const ROOT_SCHEMA = mlSchema as SchemaNode & { $defs: Record<string, SchemaNode> };

/** The schema behind the given one, following a local `$ref` (the only kind ml.schema.json uses). */
function resolveSchema(node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  const name = node.$ref.replace('#/$defs/', '');
  const target = ROOT_SCHEMA.$defs[name];
  if (!target) throw new Error(`ml.schema.json: unresolvable $ref ${node.$ref}`);
  return { ...target, ...node, $ref: undefined };
}

function pointerToPath(pointer: string): Segment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function reduceAjvErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  // anyOf reports every branch's errors; keep only the branch the value was meant for (the one whose own type
  // fits), or else one summary naming every alternative. propertyNames repeats its inner error; keep the outer.
  const dropped = new Set<ErrorObject>();
  const within = (e: ErrorObject, parent: ErrorObject) =>
    e.instancePath === parent.instancePath || e.instancePath.startsWith(`${parent.instancePath}/`);
  const branches = (parent: ErrorObject) =>
    errors.filter((e) => e !== parent && within(e, parent) && e.schemaPath.startsWith(`${parent.schemaPath}/`));
  const sorted = [...errors].sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const e of sorted) {
    if (dropped.has(e)) continue;
    // Errors from inside propertyNames carry the name; the outer propertyNames error says it once.
    if ('propertyName' in e && e.keyword !== 'propertyNames') {
      dropped.add(e);
    } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      const inner = branches(e);
      const byBranch = new Map<string, ErrorObject[]>();
      for (const i of inner) {
        const branch = i.schemaPath.slice(e.schemaPath.length + 1).split('/')[0];
        byBranch.set(branch, [...(byBranch.get(branch) ?? []), i]);
      }
      const fitting = [...byBranch.values()].filter((list) => list.every((i) => i.instancePath.length > e.instancePath.length));
      for (const i of inner) dropped.add(i);
      if (fitting.length === 1) {
        dropped.add(e);
        for (const i of fitting[0]) dropped.delete(i);
      }
    }
  }
  return errors.filter((e) => !dropped.has(e));
}

export function describeAjvError(error: ErrorObject): Finding[] {
  const path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const parent = resolveSchema((error.parentSchema ?? {}) as SchemaNode);
  const value: unknown = error.data;
  const got = ` (got ${shown(value)})`;

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      return [{ path: [...path, key], at: 'key', message: unknownKey(key, allowed) }];
    }
    case 'propertyNames': {
      const key = String(params.propertyName);
      const names = resolveSchema(parent.propertyNames ?? {});
      if (names.enum) return [{ path: [...path, key], at: 'key', message: unknownKey(key, names.enum.map(String)) }];
      return [{ path: [...path, key], at: 'key', message: `the name must be ${describe(names)} (got ${shown(key)})` }];
    }
    case 'required':
      return [{ path, at: 'parent', message: `missing required key ${shown(params.missingProperty)}` }];
    case 'enum': {
      const allowed = (parent.enum ?? []).map(String);
      const guess = typeof value === 'string' ? nearest(value, allowed) : undefined;
      return [{ path, at: 'value', message: `must be ${describe(parent)}${got}${guess ? `; did you mean ${shown(guess)}?` : ''}` }];
    }
    case 'minProperties':
      if (parent.maxProperties === 1 && parent.properties) {
        return [{ path, at: 'value', message: `must have one of the keys ${Object.keys(parent.properties).join(', ')}` }];
      }
      return [{ path, at: 'value', message: 'must not be empty' }];
    case 'maxProperties': {
      const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
      if (parent.maxProperties === 1) {
        return [{ path, at: 'value', message: `has ${keys.length} keys (${keys.join(', ')}); each step has exactly one, so make each its own list item` }];
      }
      return [{ path, at: 'value', message: `must have at most ${parent.maxProperties} keys` }];
    }
    case 'minItems': {
      const n = Number(params.limit);
      return [{ path, at: 'value', message: `must list at least ${n} ${n === 1 ? 'item' : 'items'}` }];
    }
    case 'uniqueItems': {
      const j = Number(params.i);
      const item: unknown = Array.isArray(value) ? value[j] : undefined;
      return [{ path: [...path, j], at: 'value', message: `lists ${shown(item)} twice; each may appear once` }];
    }
    case 'minLength':
      return [{ path, at: 'value', message: 'must not be empty' }];
    case 'type':
      if (path.length === 0) {
        const needed = orList(parent.required ?? []).replace(' or ', ' and ');
        const what = value === null ? 'is empty' : `must be a mapping${got}`;
        return [{ path, at: 'value', message: `${what}; an ml.yaml needs at least the keys ${needed}` }];
      }
      return [{ path, at: 'value', message: `must be ${describe(parent)}${got}` }];
    case 'const':
    case 'pattern':
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'anyOf':
    case 'oneOf':
      return [{ path, at: 'value', message: `must be ${describe(parent)}${got}` }];
    default:
      return [{ path, at: 'value', message: `${error.message ?? 'is not valid'}${got}` }];
  }
}

function unknownKey(key: string, allowed: readonly string[]): string {
  const guess = nearest(key, allowed);
  if (guess) return `unknown key ${shown(key)}; did you mean ${shown(guess)}?`;
  return `unknown key ${shown(key)}; allowed: ${allowed.join(', ')}`;
}

/** What a schema node accepts, as a phrase that follows "must be". */
function describe(raw: SchemaNode): string {
  const node = resolveSchema(raw);
  if (node['x-expected']) return node['x-expected'];
  if (node.const !== undefined) return shown(node.const);
  if (node.enum) return node.enum.length <= 2 ? orList(node.enum.map(shown)) : `one of ${node.enum.map(shown).join(', ')}`;
  if (node.anyOf) {
    return orList(node.anyOf.flatMap((branch) => {
      const b = resolveSchema(branch);
      return b.enum ? b.enum.map(shown) : [describe(b)];
    }));
  }
  const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  return orList(types.map((t) => (t === 'boolean' && types.length > 1 ? 'a boolean' : describeType(t, node))));
}

function describeType(type: string, node: SchemaNode): string {
  switch (type) {
    case 'integer':
      return `an integer${describeRange(node)}`;
    case 'number':
      return `a number${describeRange(node)}`;
    case 'string':
      return node.minLength ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array':
      return node.items ? `a list of ${plural(describe(node.items))}` : 'a list';
    case 'object':
      return node.required?.length ? `a mapping { ${node.required.map((k) => `${k}: …`).join(', ')} }` : 'a mapping';
    default:
      return type;
  }
}

function describeRange(node: SchemaNode): string {
  const { minimum: min, maximum: max, exclusiveMinimum: xmin, exclusiveMaximum: xmax } = node;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(`≥ ${min}`);
  if (xmin !== undefined) parts.push(`> ${xmin}`);
  if (max !== undefined) parts.push(`≤ ${max}`);
  if (xmax !== undefined) parts.push(`< ${xmax}`);
  return parts.length ? ` ${parts.join(' and ')}` : '';
}

function plural(phrase: string): string {
  return phrase
    .replace(/^an? non-empty string$/, 'non-empty strings')
    .replace(/^an? (integer|number|string|mapping)/, '$1s');
}

export function orList(items: string[]): string {
  if (items.length <= 1) return items[0] ?? 'a valid value';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** A value as a message shows it: strings quoted, mappings and lists by kind. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return String(value);
}

