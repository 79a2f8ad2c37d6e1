// No spread or apply over rows anywhere in src/ (issue 10, item 1).
//
// Decisions:
// - `f(...xs)`, `new F(...xs)` and `f.apply(this, xs)` put every element of xs on the call stack. V8 gives up
//   somewhere past 100,000 arguments ("Maximum call stack size exceeded"): `bramble run` died that way at
//   ~150,000 rows because src/data/split.ts pushed a row array with `push(...rows)`. A loop, `reduce` or
//   `concat` costs the same and has no limit, so a spread in a call is allowed only where its length is
//   provably small: an array literal written in the call, or an entry of ALLOWED below, which gives the reason.
// - The TypeScript AST, not a regular expression: a spread inside a string, a comment or an array literal
//   (`[...a, ...b]`, which iterates and has no argument limit) is not a call argument and is not flagged.
// - An allow-list entry names the file, the callee and the head of the spread expression (`table` for
//   `...table(header, rows)`, `rows.slice` for `...rows.slice(0, n)`), not a line number, so that it survives
//   edits elsewhere in the file and stops matching when the spread itself changes.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

interface Finding {
  /** `src/data/split.ts:29:15` */
  at: string;
  file: string;
  /** `src/data/split.ts test.push(...rows.slice)`: what ALLOWED is keyed by. */
  key: string;
  text: string;
}

/** Spreads whose length does not grow with the data, each with the reason it cannot. */
const ALLOWED: Record<string, string> = {
  // src/data/validate.ts: validation results are one per schema rule and column.
  'src/data/validate.ts results.push(...checkColumn)': "one result per rule of one column's schema",
  "src/data/validate.ts lines.push(...failures.map)": 'one line per failed schema rule',
  'src/data/validate.ts Math.max(...all.map)': 'alignTable: one line per rule, column or metric being printed',
  'src/data/drift.ts lines.push(...result.skipped.map)': 'one line per column not compared for drift',
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|mts|cts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The spread expression up to its first call's arguments: `rows.slice` for `rows.slice(0, nTest)`. */
function head(node: ts.Expression, file: ts.SourceFile): string {
  let n: ts.Expression = node;
  while (ts.isParenthesizedExpression(n)) n = n.expression;
  if (ts.isCallExpression(n)) return head(n.expression, file);
  if (ts.isConditionalExpression(n)) return `(${n.condition.getText(file)} ? ${head(n.whenTrue, file)}`;
  return n.getText(file).replace(/\s+/g, ' ');
}

function isSmallLiteral(node: ts.Expression): boolean {
  return ts.isArrayLiteralExpression(node) && !node.elements.some(ts.isSpreadElement);
}

export function findSpreads(path: string, text: string): Finding[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const name = relative(root, path).split('\\').join('/');
  const found: Finding[] = [];
  const report = (node: ts.Node, callee: string, spread: string): void => {
    const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
    found.push({ at: `${name}:${line + 1}:${character + 1}`, file: name, key: `${name} ${callee}(...${spread})`, text: node.getText(file).replace(/\s+/g, ' ').slice(0, 120) });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments) {
      const callee = (ts.isNewExpression(node) ? 'new ' : '') + node.expression.getText(file).replace(/\s+/g, ' ');
      for (const arg of node.arguments) {
        if (ts.isSpreadElement(arg) && !isSmallLiteral(arg.expression)) report(arg, callee, head(arg.expression, file));
      }
    }
    // f.apply(thisArg, array) and Reflect.apply(f, thisArg, array): the same argument limit as a spread.
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'apply') {
      const list = node.arguments[node.arguments.length - 1];
      if (node.arguments.length >= 2 && !isSmallLiteral(list)) report(node, node.expression.getText(file), head(list, file));
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('no spread or apply over rows in src/', () => {
  const findings = sources(join(root, 'src')).flatMap((path) => findSpreads(path, readFileSync(path, 'utf8')));

  it('finds only spreads whose length is provably small', () => {
    const offending = findings.filter((f) => !(f.key in ALLOWED)).map((f) => `${f.at}  ${f.text}\n    key: ${f.key}`);
    expect(offending, 'spread or apply in a call: write a loop (or add the spread to ALLOWED with the reason it is small)').toEqual([]);
  });

  it('keeps no allow-list entry that no longer matches anything', () => {
    const used = new Set(findings.map((f) => f.key));
    expect(Object.keys(ALLOWED).filter((k) => !used.has(k))).toEqual([]);
  });

  // The finder itself, on the shapes that crashed Bramble and the ones it must leave alone.
  it.each([
    ['test.push(...rows.slice(0, n));', 'x.ts test.push(...rows.slice)'],
    ['const m = Math.max(...values);', 'x.ts Math.max(...values)'],
    ['const s = String.fromCharCode(...bytes);', 'x.ts String.fromCharCode(...bytes)'],
    ['const s = String.fromCharCode.apply(null, codes);', 'x.ts String.fromCharCode.apply(...codes)'],
    ['const m = Reflect.apply(Math.max, null, values);', 'x.ts Reflect.apply(...values)'],
    ['const d = new Date(...parts);', 'x.ts new Date(...parts)'],
    ['f(...[a, ...rest]);', 'x.ts f(...[a, ...rest])'],
  ])('flags %s', (code, key) => {
    expect(findSpreads(join(root, 'x.ts'), code).map((f) => f.key)).toEqual([key]);
  });

  it.each([
    'const all = [...a, ...b];',
    'const o = { ...a };',
    'f(...[1, 2]);',
    'function g(...args: number[]) { return args; }',
    "const t = 'push(...rows)'; // Math.max(...x)",
    'h.apply(null);',
  ])('leaves %s alone', (code) => {
    expect(findSpreads(join(root, 'x.ts'), code)).toEqual([]);
  });
});
