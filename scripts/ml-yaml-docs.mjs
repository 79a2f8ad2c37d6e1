// Generates docs/ml-yaml.md from schemas/ml.schema.json, which is the single source of truth for ml.yaml.
//   node scripts/ml-yaml-docs.mjs           writes docs/ml-yaml.md
//   node scripts/ml-yaml-docs.mjs --check   exits 1 when docs/ml-yaml.md differs from what the schema gives
//   --out <file>                            another file (tests use it)
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { docFileMain, syncDocFile } from './doc-file.mjs';

const SCHEMA_FILE = fileURLToPath(new URL('../schemas/ml.schema.json', import.meta.url));
const DOCS_FILE = fileURLToPath(new URL('../docs/ml-yaml.md', import.meta.url));

/** The markdown reference for a schema: one section per top-level key, one table per mapping. */
export function renderMlYamlDocs(schema) {
  const resolve = (node) => {
    if (!node || !node.$ref) return node;
    const target = schema.$defs[node.$ref.replace('#/$defs/', '')];
    if (!target) throw new Error(`ml.schema.json: unresolvable $ref ${node.$ref}`);
    const { $ref: _ref, ...own } = node;
    return { ...target, ...own };
  };

  const out = [];
  out.push('<!-- Generated from schemas/ml.schema.json by scripts/ml-yaml-docs.mjs; do not edit by hand. -->');
  out.push('');
  out.push(`# ${schema.title} reference`);
  out.push('');
  out.push(schema.description);
  out.push('');
  out.push(`Schema: \`${schema.$id}\` (JSON Schema 2020-12). Unknown keys are rejected everywhere; the loader suggests the nearest valid one.`);
  out.push('An example for a real data set: [`templates/model-repo/ml.yaml`](../templates/model-repo/ml.yaml).');
  out.push('');
  out.push('| key | required | description |');
  out.push('|---|---|---|');
  for (const [key, raw] of Object.entries(schema.properties)) {
    const node = resolve(raw);
    out.push(row([`[\`${key}\`](#${key})`, (schema.required ?? []).includes(key) ? 'yes' : '', firstSentence(node.description)]));
  }
  out.push('');

  for (const [key, raw] of Object.entries(schema.properties)) {
    const node = resolve(raw);
    out.push(`## ${key}`);
    out.push('');
    out.push(node.description);
    out.push('');
    if (isTableNode(node)) {
      section(key, node, 2, false);
    } else {
      out.push('| type | default | allowed values |');
      out.push('|---|---|---|');
      out.push(row([typeOf(node), defaultOf(node), allowedOf(node)]));
      out.push('');
      const items = resolve(node.items);
      if (items && isTableNode(items)) section(`${key}[]`, items, 3, true);
    }
  }
  return `${out.join('\n').trimEnd()}\n`;

  // The table for one mapping, then a subsection for each value that is itself a mapping.
  function section(title, node, depth, withHeading) {
    if (withHeading) {
      out.push(`${'#'.repeat(depth)} ${title}`);
      out.push('');
      if (node.description) {
        out.push(node.description);
        out.push('');
      }
    }
    const children = [];
    if (node.properties) {
      out.push('| key | type | required | default | allowed values | description |');
      out.push('|---|---|---|---|---|---|');
      for (const [key, raw] of Object.entries(node.properties)) {
        const child = resolve(raw);
        out.push(row([`\`${key}\``, typeOf(child), (node.required ?? []).includes(key) ? 'yes' : '', defaultOf(child), allowedOf(child), child.description ?? '']));
        children.push([`${title}.${key}`, child]);
      }
      out.push('');
    } else if (isMap(node)) {
      const value = resolve(node.additionalProperties);
      out.push(`A mapping from ${keyName(node).replace(/[{}]/g, '')} to ${typeOf(value)}.`);
      const names = allowedOf(resolve(node.propertyNames) ?? {});
      if (names) out.push(`Keys: ${names}.`);
      out.push('');
      children.push([`${title}.${keyName(node)}`, value]);
    }
    for (const [childTitle, child] of children) {
      if (isTableNode(child)) section(childTitle, child, Math.min(depth + 1, 6), true);
      else if (child.type === 'array' && isTableNode(resolve(child.items))) section(`${childTitle}[]`, resolve(child.items), Math.min(depth + 1, 6), true);
    }
  }

  function isMap(node) {
    return typeof node.additionalProperties === 'object' && !node.properties;
  }

  function isTableNode(node) {
    if (!node || node.type !== 'object') return false;
    if (node.properties) return true;
    // A map whose values are plain (e.g. derive's expressions) reads better as one row in its parent's table.
    if (isMap(node)) return isTableNode(resolve(node.additionalProperties)) || Boolean(node.propertyNames);
    return false;
  }

  function keyName(node) {
    const names = node.propertyNames;
    if (names && names.$ref === '#/$defs/metric') return '{metric}';
    return '{name}';
  }

  function typeOf(node) {
    node = resolve(node);
    if (!node) return '';
    if (node.anyOf) return unique(node.anyOf.map(typeOf)).join(' or ');
    if (node.const !== undefined) return typeof node.const;
    if (node.enum) return unique(node.enum.map((v) => (v === null ? 'null' : typeof v))).join(' or ');
    const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
    return types
      .map((t) => {
        if (t === 'array') return `list of ${typeOf(node.items)}`;
        if (t === 'object') {
          if (isMap(node)) return `mapping of ${keyName(node)} → ${typeOf(node.additionalProperties)}`;
          if (node.properties) return 'mapping';
          return 'mapping';
        }
        return t;
      })
      .join(' or ');
  }

  function allowedOf(node) {
    node = resolve(node);
    if (!node) return '';
    if (node['x-expected']) return node['x-expected'];
    if (node.anyOf) return node.anyOf.map(allowedOf).filter(Boolean).join('; or ');
    if (node.const !== undefined) return code(node.const);
    if (node.enum) return node.enum.map(code).join(', ');
    const parts = [];
    const { minimum: min, maximum: max, exclusiveMinimum: xmin, exclusiveMaximum: xmax } = node;
    if (min !== undefined && max !== undefined) parts.push(`${min} to ${max}`);
    else {
      const bounds = [];
      if (min !== undefined) bounds.push(`≥ ${min}`);
      if (xmin !== undefined) bounds.push(`> ${xmin}`);
      if (max !== undefined) bounds.push(`≤ ${max}`);
      if (xmax !== undefined) bounds.push(`< ${xmax}`);
      if (bounds.length) parts.push(bounds.join(' and '));
    }
    if (node.minLength) parts.push('not empty');
    if (node.type === 'array') {
      const items = allowedOf(node.items);
      if (items) parts.push(`each ${items}`);
      if (node.minItems) parts.push(`at least ${node.minItems}`);
      if (node.uniqueItems) parts.push('no repeats');
    }
    if (node.type === 'object' && node.minProperties && node.minProperties === node.maxProperties) {
      parts.push(`exactly ${node.minProperties} key${node.minProperties === 1 ? '' : 's'}`);
    } else if (node.type === 'object' && node.minProperties) parts.push(`at least ${node.minProperties} key${node.minProperties === 1 ? '' : 's'}`);
    else if (node.type === 'object' && node.maxProperties) parts.push(`at most ${node.maxProperties} key${node.maxProperties === 1 ? '' : 's'}`);
    return parts.join(', ');
  }

  function defaultOf(node) {
    return node.default === undefined ? '' : code(node.default);
  }
}

function code(value) {
  return `\`${JSON.stringify(value)}\``;
}

function unique(list) {
  return [...new Set(list)];
}

function firstSentence(text) {
  const match = /^(.*?\.)(\s|$)/.exec(text ?? '');
  return match ? match[1] : (text ?? '');
}

function row(cells) {
  return `| ${cells.map((c) => String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
}

/** Writes the docs, or with `check` only compares them; returns whether the file was already up to date. */
export function syncMlYamlDocs({ check = false, out = DOCS_FILE, schemaFile = SCHEMA_FILE } = {}) {
  return syncDocFile(out, renderMlYamlDocs(JSON.parse(readFileSync(schemaFile, 'utf8'))), check);
}

function main(argv) {
  return docFileMain(argv, {
    out: DOCS_FILE,
    example: 'docs/ml-yaml.md',
    source: 'schemas/ml.schema.json',
    script: 'scripts/ml-yaml-docs.mjs',
    render: () => renderMlYamlDocs(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'))),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
