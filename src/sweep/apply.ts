// `bramble sweep --apply`: the chosen trial's values written into ml.yaml's model.params in place, so that the
// next `bramble train` trains the sweep's choice. The yaml package's Document API edits only those values: every
// comment, the key order and the flow or block style of model.params stay as they were.
import { readFile } from 'node:fs/promises';
import { isMap, parseDocument } from 'yaml';
import { writeFileAtomic } from '../fs/atomic.js';

/** Sets model.params.<name> to each value in ml.yaml (`file`); returns the names whose value changed. */
export async function applyParams(file: string, values: Readonly<Record<string, unknown>>): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const doc = parseDocument(text);
  const changed: string[] = [];
  const params = doc.getIn(['model', 'params'], true);
  for (const [name, value] of Object.entries(values)) {
    const path = ['model', 'params', name];
    if (isMap(params) && JSON.stringify(doc.getIn(path)) === JSON.stringify(value)) continue;
    doc.setIn(path, value);
    changed.push(name);
  }
  if (changed.length > 0) await writeFileAtomic(file, doc.toString());
  return changed;
}

/** What applyParams did to ml.yaml, in a line. */
export function appliedLine(changed: readonly string[]): string {
  return changed.length === 0 ? "ml.yaml model.params already had the best trial's values" : `applied to ml.yaml model.params: ${changed.join(', ')}`;
}
