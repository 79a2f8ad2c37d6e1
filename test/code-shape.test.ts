// The shape of the source, read with the TypeScript compiler: files small enough to read (600 lines, or a comment
// at the top saying why one must be longer), functions small enough to hold in one's head (150 lines; the tree
// grower is the one exception, its hot loop deliberately unrolled), engine modules that import no face (nor do the
// use-cases), and engine folders that import each other one way only.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const MAX_FILE_LINES = 600;
const MAX_FUNCTION_LINES = 150;
/** The tree grower: one closure whose hot loops are unrolled on purpose (see grow.ts), the only function allowed longer. */
const isTreeGrower = (where: string): boolean => /^src\/model\/forest\/grow\.ts:\w*grow/i.test(where);
const WHY_LONGER = 'longer than 600 lines because';
/** The engine: folders under src/ that the faces (CLI, actions, server entry) call, and that call none of them. */
const ENGINE = ['data', 'features', 'model', 'config', 'lineage', 'registry', 'pipeline', 'report', 'serve', 'monitor', 'ui', 'store'];
const FACES = ['src/cli.ts', 'src/commands/', 'src/actions/'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const FILES = sourceFiles(SRC).map((path) => {
  const text = readFileSync(path, 'utf8');
  return { path, name: relative(ROOT, path).split(sep).join('/'), text, source: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true) };
});

function lineOf(source: ts.SourceFile, position: number): number {
  return source.getLineAndCharacterOfPosition(position).line + 1;
}

/** A function's name as a person would search for it: its own, its variable's or property's, or `(anonymous)`. */
function functionName(node: ts.FunctionLikeDeclaration): string {
  if (node.name && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name) || ts.isPrivateIdentifier(node.name))) return node.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && ts.isIdentifier(parent.name)) {
    return parent.name.text;
  }
  return '(anonymous)';
}

interface LongFunction {
  where: string;
  lines: number;
}

function longFunctions(file: (typeof FILES)[number]): LongFunction[] {
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const fn = node as ts.FunctionLikeDeclaration;
      const lines = lineOf(file.source, node.end) - lineOf(file.source, node.getStart(file.source)) + 1;
      if (lines > MAX_FUNCTION_LINES) found.push({ where: `${file.name}:${functionName(fn)}`, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(file.source);
  return found;
}

/** Every module specifier a file imports: static imports and exports, `import type`, and dynamic `import()`. */
function importsOf(source: ts.SourceFile): string[] {
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

/** The folder under src/ a source path belongs to (`model` for src/model/forest/grow.ts), or the file itself. */
function folderOf(name: string): string {
  const parts = name.split('/');
  return parts.length > 2 ? parts[1] : parts[1].replace(/\.ts$/, '');
}

/** The folders checked for import cycles: the engine's, and the use-cases and platform adapters the faces stand on. */
const LAYERED = [...ENGINE, 'usecases', 'platform'];

/** Which engine folder imports which, types included. */
function engineGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of FILES) {
    const from = folderOf(file.name);
    if (!LAYERED.includes(from)) continue;
    for (const specifier of importsOf(file.source)) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(ROOT, resolve(dirname(file.path), specifier)).split(sep).join('/');
      if (!target.startsWith('src/')) continue;
      const to = folderOf(target);
      if (to !== from && LAYERED.includes(to)) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
  }
  return graph;
}

/** A cycle of folders (`lineage → model → lineage`), or null: a depth-first search for a back edge. */
function folderCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') return [...path.slice(path.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return null;
}

describe('the shape of src/', () => {
  it('reads every source file (the checks below see them all)', () => {
    expect(FILES.length).toBeGreaterThan(50);
  });

  it(`has no file over ${MAX_FILE_LINES} lines without a comment at its top saying why`, () => {
    const long = FILES.flatMap((file) => {
      const lines = file.text.split('\n').length - (file.text.endsWith('\n') ? 1 : 0);
      const top = file.text.split('\n').slice(0, 30).join('\n');
      return lines > MAX_FILE_LINES && !top.includes(WHY_LONGER) ? [`${file.name} (${lines} lines)`] : [];
    });
    expect(long).toEqual([]);
  });

  it(`has no function over ${MAX_FUNCTION_LINES} lines but the tree grower`, () => {
    const long = FILES.flatMap(longFunctions).filter((f) => !isTreeGrower(f.where));
    expect(long.map((f) => `${f.where} (${f.lines} lines)`)).toEqual([]);
  });

  it('has no import cycle between engine folders, use-cases and platforms (lineage ↔ model and platform ↔ usecases were), types included', () => {
    expect(folderCycle(engineGraph())?.join(' → ') ?? null).toBeNull();
  });

  it.each([...ENGINE, 'usecases'])('src/%s/ imports nothing from a face (src/cli.ts, src/commands/, src/actions/)', (folder) => {
    const offending = FILES.filter((file) => file.name.startsWith(`src/${folder}/`)).flatMap((file) =>
      importsOf(file.source)
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => relative(ROOT, resolve(dirname(file.path), specifier)).split(sep).join('/').replace(/\.js$/, '.ts'))
        .filter((target) => FACES.some((face) => (face.endsWith('/') ? target.startsWith(face) : target === face)))
        .map((target) => `${file.name} → ${target}`),
    );
    expect(offending).toEqual([]);
  });
});
