// GitLab CI files as GitLab reads them, for the tests: a CI/CD component's two documents (the `spec:` header and
// the jobs), the jobs interpolated with the inputs (`$[[ inputs.x ]]`, typed when it is the whole value, as GitLab
// does), and the `if:` of rules evaluated for a pipeline's variables — the forms Bramble's files use (==, !=,
// =~ /re/, &&, ||, parentheses, a variable alone); anything else throws, so a new form is noticed.
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';

export interface ComponentInput {
  type?: 'string' | 'number' | 'boolean' | 'array';
  default?: unknown;
  description?: string;
}

export interface CiJob {
  stage?: string;
  script?: string[];
  rules?: { if?: string; when?: string; allow_failure?: boolean }[];
  /** A job's name, or `{ job, optional }`: an optional need that is not in the pipeline is left out. */
  needs?: (string | { job: string; optional?: boolean })[];
  tags?: unknown;
}

export function readComponent(file: string): { header: { spec: { inputs: Record<string, ComponentInput> } }; body: string } {
  const text = readFileSync(file, 'utf8');
  const documents = parseAllDocuments(text);
  if (documents.length !== 2) throw new Error(`${file} has ${documents.length} YAML documents; a component has two (spec, then ---, then jobs)`);
  const at = text.indexOf('\n---\n');
  return { header: documents[0].toJS() as { spec: { inputs: Record<string, ComponentInput> } }, body: text.slice(at + 5) };
}

/** The inputs' values: those given, else each input's default (`<name>` for one without a default). */
export function inputValues(inputs: Record<string, ComponentInput>, given: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, name in given ? given[name] : (input.default ?? `<${name}>`)]));
}

/** The jobs with the inputs put in; an input used but not declared throws. */
export function interpolate(body: string, values: Record<string, unknown>): unknown {
  const missing = new Set<string>();
  const value = (name: string): unknown => {
    if (!(name in values)) missing.add(name);
    return values[name];
  };
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const whole = /^\$\[\[\s*inputs\.([\w-]+)\s*\]\]$/.exec(node);
      if (whole) return value(whole[1]);
      return node.replace(/\$\[\[\s*inputs\.([\w-]+)\s*\]\]/g, (_, name: string) => String(value(name)));
    }
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === 'object' && node !== null) return Object.fromEntries(Object.entries(node).map(([k, v]) => [String(walk(k)), walk(v)]));
    return node;
  };
  const result = walk(parse(body));
  if (missing.size > 0) throw new Error(`inputs used but not declared: ${[...missing].join(', ')}`);
  return result;
}

function splitTop(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    if (text[i] === ')') depth--;
    if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i));
      start = i + separator.length;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Whether a rule's `if:` holds for the pipeline's variables (unset variables are empty). */
export function ruleHolds(expression: string, vars: Readonly<Record<string, string>>): boolean {
  const get = (name: string) => vars[name.slice(1)] ?? '';
  const atom = (text: string): boolean => {
    const t = text.trim();
    if (t.startsWith('(') && t.endsWith(')')) return or(t.slice(1, -1));
    const match = /^(\$\w+)\s*=~\s*\/(.*)\/$/.exec(t);
    if (match) return new RegExp(match[2]).test(get(match[1]));
    const compare = /^(\$\w+)\s*(==|!=)\s*(?:"([^"]*)"|(\$\w+))$/.exec(t);
    if (compare) {
      const right = compare[3] ?? get(compare[4]);
      return compare[2] === '==' ? get(compare[1]) === right : get(compare[1]) !== right;
    }
    if (/^\$\w+$/.test(t)) return get(t) !== '';
    throw new Error(`cannot evaluate the rule ${t}`);
  };
  const and = (text: string): boolean => text.split('&&').every(atom);
  const or = (text: string): boolean => splitTop(text, '||').some(and);
  return or(expression);
}

/** The first rule that holds, or null when none does (the job is not in the pipeline). */
export function matchingRule(job: CiJob, vars: Readonly<Record<string, string>>): { when?: string } | null {
  if (!job.rules) return {};
  const rule = job.rules.find((r) => r.if === undefined || ruleHolds(r.if, vars));
  return rule === undefined || rule.when === 'never' ? null : rule;
}
