// `bramble sweep --apply`: the chosen trial's values written into ml.yaml's model.params in place, so that the
// next `bramble train` trains the sweep's choice. The yaml package's Document API finds each value's place: a value
// already in model.params is replaced in the text itself, so every comment, the key order and the flow or block
// style of ml.yaml stay byte for byte; only a parameter model.params lacks is added through the Document.
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, parseDocument } from 'yaml';
import { writeFileAtomic } from '../fs/atomic.js';

/** Sets model.params.<name> to each value in ml.yaml (`file`); returns the names whose value changed. */
export async function applyParams(file: string, values: Readonly<Record<string, unknown>>): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const doc = parseDocument(text);
  const params = doc.getIn(['model', 'params'], true);
  const changed: string[] = [];
  const edits: { from: number; to: number; text: string }[] = [];
  let added = false;
  for (const [name, value] of Object.entries(values)) {
    const node = isMap(params) ? params.get(name, true) : undefined;
    if (isScalar(node) && JSON.stringify(node.value) === JSON.stringify(value)) continue;
    changed.push(name);
    if (isScalar(node) && node.range) {
      edits.push({ from: node.range[0], to: node.range[1], text: JSON.stringify(value) });
    } else {
      doc.setIn(['model', 'params', name], value);
      added = true;
    }
  }
  if (changed.length === 0) return changed;
  if (added) {
    // A new key: the Document lays the file out again (comments kept); the replaced values are set there too.
    for (const name of changed) doc.setIn(['model', 'params', name], values[name]);
    await writeFileAtomic(file, doc.toString());
    return changed;
  }
  let out = text;
  for (const edit of edits.sort((a, b) => b.from - a.from)) out = `${out.slice(0, edit.from)}${edit.text}${out.slice(edit.to)}`;
  await writeFileAtomic(file, out);
  return changed;
}

/** What applyParams did to ml.yaml, in a line. */
export function appliedLine(changed: readonly string[]): string {
  return changed.length === 0 ? "ml.yaml model.params already had the best trial's values" : `applied to ml.yaml model.params: ${changed.join(', ')}`;
}
