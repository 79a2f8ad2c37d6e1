// Where in ml.yaml a problem is: the line and column of a path's key or value, found on yaml's document.
import { isAlias, isMap, isScalar, isSeq, visit, type Document, type LineCounter } from 'yaml';
import type { ConfigProblem } from './ml-yaml.js';

export type Segment = string | number;

/** A problem before it has a position: the path of the node, and whether it is the key or the value that is wrong. */
export interface Finding {
  path: Segment[];
  at: 'key' | 'value' | 'parent';
  message: string;
}

export function displayPath(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** The offset of a path's key or value in the document; the nearest existing ancestor when the node is not there. */
export function locate(doc: Document, path: readonly Segment[], at: Finding['at']): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  // Where the parent mapping is named (`data:`), for problems about the mapping as a whole.
  let keyOffset = offset;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return offset;
      const keyStart = rangeStart(pair.key) ?? offset;
      if (i === path.length - 1 && at === 'key') return keyStart;
      node = pair.value;
      keyOffset = keyStart;
      // An empty value (`trees:`) has no text of its own; point at its key.
      offset = isScalar(node) && node.value === null && node.source === '' ? keyStart : (rangeStart(node) ?? keyStart);
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      offset = rangeStart(node) ?? offset;
      keyOffset = offset;
    } else {
      return offset;
    }
  }
  return at === 'parent' ? keyOffset : offset;
}

/** The key that starts at an offset (yaml reports a duplicate key by position only). */
export function keyAt(doc: Document, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && rangeStart(pair.key) === offset) {
        found = String(pair.key.value);
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
    const start: unknown = node.range[0];
    return typeof start === 'number' ? start : undefined;
  }
  return undefined;
}

export function place(doc: Document, lineCounter: LineCounter, finding: Finding): ConfigProblem {
  const offset = locate(doc, finding.path, finding.at);
  const { line, col } = lineCounter.linePos(offset);
  return { line, col, path: displayPath(finding.path), message: finding.message };
}

/** Document order, each distinct problem once. */
export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.line ?? 0) - (b.p.line ?? 0) || (a.p.col ?? 0) - (b.p.col ?? 0) || a.i - b.i)
    .map(({ p }) => ({ line: p.line, col: p.col, path: p.path, message: p.message }))
    .filter((p) => {
      const key = JSON.stringify(p);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

