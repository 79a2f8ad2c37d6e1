// The prediction log on a real filesystem: JSON Lines in order, rotation by size, a bounded queue, and faults
// (a folder that cannot exist, a full disk) that never reach the caller and leave a mark in the log when they end.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PREDICTION_LOG, PredictionLog, type PredictionLogOptions } from '../src/serve/prediction-log.js';
import { predictionLine } from '../src/serve/telemetry.js';

const temporary: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bramble-plog-'));
  temporary.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temporary.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const logs: PredictionLog[] = [];
function openLog(options: PredictionLogOptions): PredictionLog {
  const log = new PredictionLog({ flushMs: 60_000, ...options });
  logs.push(log);
  return log;
}
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
});

function readLines(path: string): unknown[] {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n') || text === '').toBe(true);
  return text
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as unknown);
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function prediction(i: number) {
  return { id: `p-${i}`, time: '2026-05-01T12:00:00.000Z', env: 'prod', model: { name: 'churn', version: 'v1.2.0' }, inputs: { x: i }, outputs: [i % 2] };
}

describe('writing', () => {
  it('round-trips records as JSON Lines, in order, in batches', async () => {
    const dir = join(tempDir(), 'a', 'b');
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2 });
    const records = [prediction(1), { type: 'feedback', id: 'p-1', truth: 1, note: 'ünïcödé ✓ "quoted"\nline' }, prediction(2)];
    for (const r of records) log.append(r);
    expect(log.stats()).toMatchObject({ written: 0, queuedBytes: records.reduce((a, r) => a + Buffer.byteLength(JSON.stringify(r)) + 1, 0) });
    await log.flush();
    log.append(prediction(3));
    await log.flush();
    expect(readLines(join(dir, PREDICTION_LOG.file))).toEqual([...records, prediction(3)]);
    expect(log.stats()).toEqual({ written: 4, dropped: 0, failedWrites: 0, queuedBytes: 0, faulty: false, lastError: null, rotations: 0 });
  });

  it('writes on its own after flushMs, without a flush', async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2, flushMs: 5 });
    log.append(prediction(1));
    await until(() => log.stats().written === 1, 'the timed write');
    expect(readLines(join(dir, PREDICTION_LOG.file))).toEqual([prediction(1)]);
  });

  it('drops and counts a record that cannot be serialised, and never throws', async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2 });
    const circular: Record<string, unknown> = { id: 'c' };
    circular.self = circular;
    log.append(prediction(1));
    expect(() => log.append({ id: 'big', value: 10n })).not.toThrow();
    expect(() => log.append(circular)).not.toThrow();
    expect(() => log.append({ toJSON: () => { throw new Error('no'); } })).not.toThrow();
    expect(() => log.append((() => 1) as unknown as object)).not.toThrow();
    log.append(prediction(2));
    await log.flush();
    expect(readLines(join(dir, PREDICTION_LOG.file))).toEqual([prediction(1), prediction(2)]);
    expect(log.stats()).toMatchObject({ written: 2, dropped: 4, faulty: false });
  });

  it('starts on a new line when an earlier process left the file ending mid-line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, PREDICTION_LOG.file), '{"id":"old"}\n{"id":"ha');
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2 });
    log.append({ id: 'new' });
    await log.flush();
    expect(readFileSync(join(dir, PREDICTION_LOG.file), 'utf8')).toBe('{"id":"old"}\n{"id":"ha\n{"id":"new"}\n');
  });

  it('writes what is queued on close, then drops later appends', async () => {
    const dir = tempDir();
    const log = new PredictionLog({ dir, maxBytes: 1 << 20, files: 2 });
    log.append(prediction(1));
    await log.close();
    log.append(prediction(2));
    expect(readLines(join(dir, PREDICTION_LOG.file))).toEqual([prediction(1)]);
    expect(log.stats()).toMatchObject({ written: 1, dropped: 1 });
  });

  it.each([
    ['maxBytes', { maxBytes: 0 }, "Prediction log: 'maxBytes' must be a whole number ≥ 1 (got 0)."],
    ['files', { files: 1.5 }, "Prediction log: 'files' must be a whole number ≥ 1 (got 1.5)."],
    ['maxQueueBytes', { maxQueueBytes: -1 }, "Prediction log: 'maxQueueBytes' must be a whole number ≥ 1 (got -1)."],
  ])('refuses a bad %s when built', (_, bad, message) => {
    const build = () => new PredictionLog({ dir: tempDir(), maxBytes: 100, files: 2, ...bad });
    expect(build).toThrow(message);
    expect(build).toThrowError(expect.objectContaining({ code: 'E_PREDICTION_LOG' }));
  });
});

describe('rotation', () => {
  function files(dir: string): string[] {
    return readdirSync(dir).sort();
  }

  it.each([
    ['flushed every 250 records', 250],
    ['in one batch', 10_000],
  ])('keeps exactly `files` files, each within maxBytes, with the newest records current and no line split (%s)', async (_, every) => {
    const dir = tempDir();
    // Left by a run that kept more files: beyond the retention, so it goes.
    writeFileSync(join(dir, 'predictions.7.jsonl'), '{}\n');
    const maxBytes = 8192;
    const log = openLog({ dir, maxBytes, files: 3 });
    for (let i = 0; i < 10_000; i++) {
      log.append(prediction(i));
      if ((i + 1) % every === 0) await log.flush();
    }
    await log.flush();
    expect(files(dir)).toEqual(['predictions.1.jsonl', 'predictions.2.jsonl', 'predictions.jsonl']);
    const ids: string[] = [];
    let total = 0;
    for (const n of [2, 1, 0]) {
      const path = join(dir, PREDICTION_LOG.rotated(n));
      const size = statSync(path).size;
      expect(size).toBeLessThanOrEqual(maxBytes);
      total += size;
      // Every line whole: each parses, and each file ends with a line feed.
      for (const record of readLines(path)) ids.push((record as { id: string }).id);
    }
    expect(total).toBeLessThanOrEqual(3 * maxBytes);
    // The files hold the newest records, consecutive, oldest file first; the very newest is in predictions.jsonl.
    const first = Number(ids[0].slice(2));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, k) => `p-${first + k}`));
    expect(ids[ids.length - 1]).toBe('p-9999');
    expect(readLines(join(dir, PREDICTION_LOG.file)).at(-1)).toEqual(prediction(9999));
    // The older files are full: no rotation happened before a file had to.
    const line = Buffer.byteLength(JSON.stringify(prediction(5000))) + 1;
    expect(statSync(join(dir, PREDICTION_LOG.rotated(1))).size).toBeGreaterThan(maxBytes - 2 * line);
    expect(log.stats()).toMatchObject({ written: 10_000, dropped: 0, queuedBytes: 0 });
    expect(log.stats().rotations).toBeGreaterThan(10_000 / (maxBytes / line) - 2);
  });

  it('keeps only predictions.jsonl when files is 1', async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 1000, files: 1 });
    for (let i = 0; i < 100; i++) log.append(prediction(i));
    await log.flush();
    expect(files(dir)).toEqual(['predictions.jsonl']);
    expect(statSync(join(dir, PREDICTION_LOG.file)).size).toBeLessThanOrEqual(1000);
    expect(readLines(join(dir, PREDICTION_LOG.file)).at(-1)).toEqual(prediction(99));
  });

  it('gives a line longer than maxBytes a file of its own rather than splitting it', async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 100, files: 3 });
    log.append({ id: 'small' });
    log.append({ id: 'big', pad: 'x'.repeat(300) });
    log.append({ id: 'after' });
    await log.flush();
    expect(readLines(join(dir, PREDICTION_LOG.rotated(2)))).toEqual([{ id: 'small' }]);
    expect(readLines(join(dir, PREDICTION_LOG.rotated(1)))).toEqual([{ id: 'big', pad: 'x'.repeat(300) }]);
    expect(readLines(join(dir, PREDICTION_LOG.file))).toEqual([{ id: 'after' }]);
  });

  it('names its files through PREDICTION_LOG', () => {
    expect([0, 1, 2].map(PREDICTION_LOG.rotated)).toEqual(['predictions.jsonl', 'predictions.1.jsonl', 'predictions.2.jsonl']);
    expect(PREDICTION_LOG.pattern.exec('predictions.12.jsonl')?.[1]).toBe('12');
    expect(PREDICTION_LOG.pattern.test('predictions.0.jsonl')).toBe(false);
  });
});

describe('the queue bound', () => {
  it('drops, and counts exactly, what does not fit', async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2, maxQueueBytes: 1000 });
    // Each line is exactly 100 bytes with its line feed: ten fit.
    const record = (i: number) => ({ id: `r-${String(i).padStart(2, '0')}`, pad: 'x'.repeat(100 - 1 - '{"id":"r-00","pad":""}'.length) });
    expect(Buffer.byteLength(JSON.stringify(record(0))) + 1).toBe(100);
    for (let i = 0; i < 25; i++) log.append(record(i));
    expect(log.stats()).toMatchObject({ queuedBytes: 1000, dropped: 15, written: 0 });
    await log.flush();
    expect(log.stats()).toMatchObject({ queuedBytes: 0, dropped: 15, written: 10 });
    expect(readLines(join(dir, PREDICTION_LOG.file))).toEqual(Array.from({ length: 10 }, (_, i) => record(i)));
    // Room again once written.
    log.append(record(99));
    expect(log.stats()).toMatchObject({ queuedBytes: 100, dropped: 15 });
  });

  it('takes 100,000 appends from a tight loop quickly, and holds no more than maxQueueBytes', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const dir = tempDir();
    const maxQueueBytes = 1 << 20;
    const log = openLog({ dir, maxBytes: 64 << 20, files: 2, maxQueueBytes });
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) log.append({ id: i, latencyMs: 0.42, env: 'prod', outputs: [i & 1], pad: 'abcdefghijklmnopqrstuvwxyz0123456789' });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(2000);
    const stats = log.stats();
    // About 100 bytes a line: roughly a tenth fits, and the rest is dropped, not held.
    expect(stats.queuedBytes).toBeLessThanOrEqual(maxQueueBytes);
    expect(stats.queuedBytes).toBeGreaterThan(maxQueueBytes - 200);
    gc();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(16 << 20);
    await log.flush();
    expect(log.stats().written + log.stats().dropped).toBe(100_000);
    expect(readLines(join(dir, PREDICTION_LOG.file))).toHaveLength(log.stats().written);
  });
});

describe('the encoded queue (line-queue.ts)', () => {
  it('writes the bytes of each line as UTF-8 encodes it: text of every width, a lone surrogate, and a line past the first buffer', async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 64 << 20, files: 2 });
    // appendLine takes the text as given, so a lone surrogate reaches the encoder (JSON.stringify would escape it).
    const lines = ['{"a":"ascii"}', '{"b":"ünïcödé ✓"}', '{"c":"😀 two units, four bytes"}', '{"d":"\ud800 alone"}', `{"e":"${'é'.repeat(40_000)}"}`, `{"f":"${'z'.repeat(70_000)}"}`, '{"g":"after"}'];
    for (const line of lines) expect(log.appendLine(line)).toBe(true);
    const expected = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
    expect(log.stats().queuedBytes).toBe(expected.length);
    await log.flush();
    expect(readFileSync(join(dir, PREDICTION_LOG.file)).equals(expected)).toBe(true);
    expect(log.stats()).toMatchObject({ written: lines.length, queuedBytes: 0, dropped: 0 });
  });

  it('refuses a line by its UTF-8 size: three-byte characters that fit as text do not fit as bytes', async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2, maxQueueBytes: 100 });
    // 40 units, 120 bytes: under the bound as text, over it as UTF-8.
    expect(log.appendLine('✓'.repeat(40))).toBe(false);
    expect(log.appendLine('x'.repeat(99))).toBe(true);
    expect(log.appendLine('y')).toBe(false);
    expect(log.stats()).toMatchObject({ queuedBytes: 100, dropped: 2 });
    await log.flush();
    expect(readFileSync(join(dir, PREDICTION_LOG.file), 'utf8')).toBe(`${'x'.repeat(99)}\n`);
  });

  it('reuses a written batch\'s buffer without mixing batches: five flushes of different lengths, every line whole', async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 64 << 20, files: 2 });
    const all: unknown[] = [];
    for (let batch = 0; batch < 5; batch++) {
      // Long then short: a later, shorter batch lands in a buffer that held longer lines.
      const n = [3000, 10, 700, 1, 2000][batch];
      for (let i = 0; i < n; i++) {
        const record = { batch, i, pad: 'p'.repeat((i * 37) % 300) };
        all.push(record);
        log.append(record);
      }
      await log.flush();
    }
    expect(readLines(join(dir, PREDICTION_LOG.file))).toEqual(all);
  });

  it("queues a worker's encoded lines as they are, each against the bound, and writes their bytes unchanged", async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2, maxQueueBytes: 40 });
    const lines = ['{"w":1}', '{"w":"ü"}', `{"w":"${'x'.repeat(30)}"}`, '{"w":4}'];
    const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
    const ends: number[] = [];
    for (const l of lines) ends.push((ends.at(-1) ?? 0) + Buffer.byteLength(l) + 1);
    // 8 + 11 bytes fit in 40; the third (39 bytes) does not; the fourth (8) does.
    expect(log.appendEncoded(bytes, ends)).toBe(3);
    expect(log.stats()).toMatchObject({ queuedBytes: 8 + 11 + 8, dropped: 1 });
    await log.flush();
    expect(readFileSync(join(dir, PREDICTION_LOG.file), 'utf8')).toBe(`${lines[0]}\n${lines[1]}\n${lines[3]}\n`);
    await log.close();
    expect(log.appendEncoded(bytes, ends)).toBe(0);
    expect(log.stats().dropped).toBe(1 + 4);
  });

  it('rotates by bytes, not units: multi-byte lines fill a file at their encoded size', async () => {
    const dir = tempDir();
    const log = openLog({ dir, maxBytes: 1000, files: 3 });
    // Two quotes and 98 three-byte characters, 297 bytes with the line feed (98 as text): three fit in 1,000 bytes.
    const line = `"${'€'.repeat(98)}"`;
    const size = Buffer.byteLength(line) + 1;
    expect(size).toBe(297);
    for (let i = 0; i < 4; i++) log.appendLine(line);
    await log.flush();
    expect(statSync(join(dir, PREDICTION_LOG.rotated(1))).size).toBe(3 * size);
    expect(statSync(join(dir, PREDICTION_LOG.file)).size).toBe(size);
  });
});

describe('faults', () => {
  it('keeps going when its folder cannot be made (ENOTDIR, even as root), reports once, and marks the gap on recovery', async () => {
    const root = tempDir();
    // A path under a regular file: mkdir fails with ENOTDIR for every user, root included (chmod does not stop root).
    const blocker = join(root, 'file.txt');
    writeFileSync(blocker, 'not a folder');
    const dir = join(blocker, 'logs');
    let clock = Date.parse('2026-05-01T12:00:00.000Z');
    const onFault = vi.fn<(message: string) => void>();
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2, onFault, now: () => clock });

    for (let i = 0; i < 3; i++) expect(() => log.append(prediction(i))).not.toThrow();
    await log.flush();
    expect(log.stats()).toMatchObject({ faulty: true, failedWrites: 1, dropped: 3, written: 0, queuedBytes: 0 });
    expect(log.stats().lastError).toBe(`ENOTDIR: not a directory, mkdir '${dir}'`);
    expect(onFault).toHaveBeenCalledTimes(1);
    expect(onFault.mock.calls[0][0]).toBe(
      `Prediction log ${join(dir, PREDICTION_LOG.file)}: cannot write (ENOTDIR: not a directory, mkdir '${dir}'). ` +
        'Predictions are still answered but not logged; retrying every 1000 ms. Fix the folder or free disk space.',
    );

    // Still failing: counted, not reported again.
    clock += 1000;
    log.append(prediction(3));
    log.append(prediction(4));
    await log.flush();
    expect(log.stats()).toMatchObject({ faulty: true, failedWrites: 2, dropped: 5 });
    expect(onFault).toHaveBeenCalledTimes(1);

    // The fault is removed: the next write succeeds, reports the recovery and writes the gap into the log.
    rmSync(blocker);
    clock += 1500;
    log.append(prediction(5));
    await log.flush();
    expect(log.stats()).toMatchObject({ faulty: false, failedWrites: 2, dropped: 5, written: 1 });
    expect(onFault).toHaveBeenCalledTimes(2);
    expect(onFault.mock.calls[1][0]).toBe(
      `Prediction log ${join(dir, PREDICTION_LOG.file)}: writing again after 2.5 s; 5 record(s) were dropped during the fault ` +
        `(ENOTDIR: not a directory, mkdir '${dir}'). A "fault" line in the log marks the gap.`,
    );
    expect(readLines(join(dir, PREDICTION_LOG.file))).toEqual([
      { type: 'fault', from: '2026-05-01T12:00:00.000Z', to: '2026-05-01T12:00:02.500Z', dropped: 5, error: `ENOTDIR: not a directory, mkdir '${dir}'` },
      prediction(5),
    ]);
  });

  it('retries on its own after retryMs and writes the fault line even when nothing new is appended', async () => {
    const root = tempDir();
    const blocker = join(root, 'file.txt');
    writeFileSync(blocker, '');
    const dir = join(blocker, 'logs');
    const onFault = vi.fn<(message: string) => void>();
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2, flushMs: 5, retryMs: 30, onFault });
    log.append(prediction(1));
    await until(() => log.stats().faulty, 'the fault');
    await new Promise((r) => setTimeout(r, 100));
    expect(log.stats().failedWrites).toBeGreaterThan(1);
    expect(onFault).toHaveBeenCalledTimes(1);
    rmSync(blocker);
    await until(() => !log.stats().faulty, 'the recovery');
    expect(onFault).toHaveBeenCalledTimes(2);
    expect(readLines(join(dir, PREDICTION_LOG.file))).toEqual([expect.objectContaining({ type: 'fault', dropped: 1, error: expect.stringMatching(/^ENOTDIR/) })]);
  });

  it.skipIf(!existsSync('/dev/full'))('survives a full disk (ENOSPC) and cuts off a half-written line before writing again', async () => {
    const dir = tempDir();
    const path = join(dir, PREDICTION_LOG.file);
    const onFault = vi.fn<(message: string) => void>();
    const log = openLog({ dir, maxBytes: 1 << 20, files: 2, onFault });
    log.append(prediction(1));
    log.append(prediction(2));
    await log.flush();
    const before = readFileSync(path, 'utf8');

    // Writes to /dev/full fail with ENOSPC, as on a full disk.
    renameSync(path, `${path}.saved`);
    symlinkSync('/dev/full', path);
    log.append(prediction(3));
    expect(() => log.append(prediction(4))).not.toThrow();
    await log.flush();
    expect(log.stats()).toMatchObject({ faulty: true, failedWrites: 1, dropped: 2, written: 2 });
    expect(log.stats().lastError).toMatch(/^ENOSPC: no space left on device/);
    expect(onFault).toHaveBeenCalledTimes(1);
    expect(onFault.mock.calls[0][0]).toContain(`Prediction log ${path}: cannot write (ENOSPC: no space left on device`);

    // Space again, and the file as a full disk leaves it: part of a line written.
    rmSync(path);
    writeFileSync(path, `${before}{"id":"p-3","ti`);
    log.append(prediction(5));
    await log.flush();
    expect(log.stats()).toMatchObject({ faulty: false, written: 3, dropped: 2 });
    const lines = readLines(path);
    expect(lines).toEqual([prediction(1), prediction(2), expect.objectContaining({ type: 'fault', dropped: 2 }), prediction(5)]);
    expect(onFault).toHaveBeenCalledTimes(2);
  });

  it('keeps writing when onFault itself throws', async () => {
    const root = tempDir();
    const blocker = join(root, 'file.txt');
    writeFileSync(blocker, '');
    const log = openLog({ dir: join(blocker, 'logs'), maxBytes: 1 << 20, files: 2, onFault: () => { throw new Error('broken callback'); } });
    log.append(prediction(1));
    await log.flush();
    expect(log.stats()).toMatchObject({ faulty: true, lastError: expect.stringMatching(/^ENOTDIR: .* \(and onFault threw: broken callback\)$/) });
    rmSync(blocker);
    mkdirSync(join(blocker, 'logs'), { recursive: true });
    log.append(prediction(2));
    await log.flush();
    expect(log.stats()).toMatchObject({ faulty: false, written: 1 });
  });
});

describe('a prediction\'s log line', () => {
  const model = '"env":"p\\"rod","model":{"name":"churn","version":"v1.2.0","sha256":"ab"}';
  const cases = [
    {
      id: 'req-1',
      records: [{ tenure: 3, gender: 'Fe"male\n', when: null, ok: true, odd: '\u2028' }],
      labels: ['No'],
      probabilities: Float64Array.of(0.8300000000000001, 0.16999999999999993),
      latencyMs: 0.123456789,
    },
    { id: 'r', records: [{ x: 1e21 }, { x: -0 }], labels: [3.5, NaN], probabilities: null, latencyMs: 12 },
  ];
  for (const c of cases) {
    it(`is what JSON.stringify writes for the record (${c.probabilities ? 'classification' : 'regression'})`, () => {
      const line = predictionLine(c, model, c.latencyMs);
      const { time } = JSON.parse(line) as { time: string };
      const record = {
        id: c.id,
        time,
        env: 'p"rod',
        model: { name: 'churn', version: 'v1.2.0', sha256: 'ab' },
        inputs: c.records,
        outputs: c.probabilities ? { predictions: c.labels, probabilities: Array.from(c.probabilities) } : { predictions: c.labels },
        latencyMs: c.latencyMs,
      };
      expect(line).toBe(JSON.stringify(record));
      expect(Date.parse(time)).toBeGreaterThan(0);
    });
  }
});
