// The artifact hashed and written in pieces (src/model/artifact.ts: emitCanonicalJSON, canonicalSha256,
// sealBody, writeArtifact) gives the very text and sha256 of the whole-string path, on the values that JSON
// treats specially and on strings long enough to be sliced.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJSON, canonicalSha256, emitCanonicalJSON, sealArtifact, sealBody, writeArtifact } from '../src/model/artifact.js';

const astral = '😀';
const cases: [string, unknown][] = [
  ['plain values', { b: 1, a: 'x', c: [1, 'two', null, true, false], d: { z: 0, y: -0 } }],
  ['what JSON turns to null or leaves out', { u: undefined, f: () => 1, list: [undefined, () => 1, NaN, Infinity, -Infinity] }],
  ['keys sorted by code unit, numeric-looking keys too', { '10': 1, '2': 2, B: 3, a: 4, é: 5 }],
  ['a __proto__ own key, as JSON.parse makes it', JSON.parse('{"__proto__": {"x": 1}, "a": 2}')],
  ['a typed array (an object of index keys)', { v: new Float64Array([1.5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) }],
  ['a Date (its toJSON)', { when: new Date(0) }],
  ['escapes in short strings', { s: 'quote " backslash \\ newline \n tab \t nul \u0000 lone \ud800 pair ' + astral }],
  ['a long string with nothing to escape', { s: 'A'.repeat(5000) }],
  ['a long string with escapes', { s: 'a"b\\c\n'.repeat(2000) }],
  ['a string past one slice, astral pairs across the slice boundary', { s: 'x' + astral.repeat(600_000) }],
  ['a base64 string past several slices', { s: Buffer.alloc(4_000_000, 7).toString('base64') }],
  ['a long string with a lone surrogate', { s: 'y'.repeat(1 << 20) + '\udc00' + 'z'.repeat(10) }],
];

describe('the artifact in pieces', () => {
  it.each(cases)('%s: the same text and sha256 as canonicalJSON', (_, value) => {
    const pieces: string[] = [];
    emitCanonicalJSON(value, (p) => pieces.push(p));
    const whole = canonicalJSON(value);
    expect(pieces.join('') === whole).toBe(true);
    expect(canonicalSha256(value)).toBe(createHash('sha256').update(whole).digest('hex'));
  });

  it.each(cases)('%s: writeArtifact writes sealArtifact\'s text, byte for byte', async (_, value) => {
    const body = { format: 'bramble-model', version: 1, value };
    const { artifact, text } = sealArtifact(body);
    expect(sealBody(body).sha256).toBe(artifact.sha256);
    const dir = mkdtempSync(join(tmpdir(), 'bramble-artifact-stream-'));
    const path = join(dir, 'model.json');
    const bytes = await writeArtifact(path, artifact);
    const written = readFileSync(path);
    expect(written.equals(Buffer.from(text))).toBe(true);
    expect(bytes).toBe(written.length);
    expect(readdirSync(dir)).toEqual(['model.json']);
  });

  it('leaves no temporary file when the value cannot be written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-artifact-stream-'));
    await expect(writeArtifact(join(dir, 'model.json'), { n: 1n })).rejects.toThrow('BigInt');
    expect(readdirSync(dir)).toEqual([]);
  });
});
