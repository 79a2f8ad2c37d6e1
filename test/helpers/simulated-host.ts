// A simulated Bramble host for the monitor's story (test/monitor-story.test.ts) and its reference test
// (test/reference/monitor.test.ts): the template trained and registered in a real git repository, served by the
// real server on port 0 with a prediction log, and sent single-row requests drawn from the template's data (with
// customerID among the inputs), some of them shifted, with the true Churn fed back for a share of them.
//
// Decisions:
// - The host stamps each logged prediction with `new Date()`. To place traffic on several days in a test that
//   lasts seconds, the caller fakes Date only (`vi.useFakeTimers({ toFake: ['Date'] })`) and hands `clock` here;
//   sockets, the log's flush timer and the server's own timeouts stay real (they run on libuv and
//   performance.now, not Date). The client is node:http with a keep-alive agent, not fetch, for the same reason.
// - Requests go out a few at a time, each batch at one instant: the windows care about the day, not the second.
// - Everything sent is kept (id, inputs, truth, whether it was fed back, the probabilities answered), so a test
//   can compute what the monitor should find from what was sent rather than from what the monitor read.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { readTable } from '../../src/data/load.js';
import { cellValue, getColumn, type Table } from '../../src/data/table.js';
import { checkServeConfig } from '../../src/serve/config.js';
import { writeCandidate } from '../../src/serve/host.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { bramble } from './cli.js';
import { seeded } from './data.js';
import { commitAll, editMlYaml, makeModelRepo, train } from './model-repo.js';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The story's traffic: 5,000 requests, the second half with MonthlyCharges × 1.4, truth fed back for 60 %. */
export const STORY = {
  /** Day 0 of the traffic (a Monday, UTC). */
  start: Date.parse('2026-11-02T00:00:00Z'),
  column: 'MonthlyCharges',
  factor: 1.4,
  feedback: 0.6,
  /**
   * [day, requests, shifted]: two normal days, a day without traffic, two shifted days, and a shifted tail of 40
   * requests on a day of its own (under the minimum of 100 rows). 1,250 + 1,250 + 1,230 + 1,230 + 40 = 5,000.
   */
  days: [
    [0, 1250, false],
    [1, 1250, false],
    [3, 1230, true],
    [4, 1230, true],
    [5, 40, true],
  ] as const,
} as const;

export interface Sent {
  /** The x-request-id the client gave. */
  id: string;
  day: number;
  shifted: boolean;
  /** What was sent: the model's inputs and customerID. */
  row: Row;
  truth: string;
  fedBack: boolean;
  /** The answer's predict_proba row, in the artifact's class order. */
  probabilities: number[];
  predicted: string;
}

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

export class SimulatedHost {
  readonly sent: Sent[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly random = seeded(14);
  private next = 0;

  private constructor(
    /** The model repository (trained, v1.0.0 registered). */
    readonly dir: string,
    /** The host's prediction log folder (serve.json's log.dir). */
    readonly logs: string,
    readonly server: RunningServer,
    readonly artifact: { sha256: string; inputs: string[]; numbers: ReadonlySet<string>; classes: string[] },
    /** The template's data, which requests are drawn from. */
    readonly table: Table,
  ) {}

  /**
   * The template with `trees` trees and ml.yaml's monitor.drift.share set to `share`, trained and registered as
   * churn@v1.0.0, served in prod by the real server. With `rows`, the data is cut to its first `rows` rows (and
   * the schema's minimum with it): a reference of up to 1,000 rows is compared with the small-sample tests.
   */
  static async start(options: { trees: number; share: number; rows?: number }): Promise<SimulatedHost> {
    const dir = makeModelRepo({ trees: options.trees });
    editMlYaml(dir, (text) => text.replace('drift: { share: 0.5 }', `drift: { share: ${options.share} }`));
    if (options.rows !== undefined) {
      const data = join(dir, 'data/churn.csv');
      writeFileSync(data, `${readFileSync(data, 'utf8').split('\n').slice(0, options.rows + 1).join('\n')}\n`);
      editMlYaml(dir, (text) => text.replace('rows: { min: 1000 }', `rows: { min: ${options.rows} }`));
    }
    commitAll(dir, `monitor: drift share ${options.share}`);
    const text = await train(dir);
    const artifact = JSON.parse(text) as { sha256: string; signature: { inputs: { name: string; kind: string }[]; classes: string[] } };
    const registered = bramble(['register'], { cwd: dir });
    expect(registered.stderr).toBe('');
    expect(registered.status).toBe(0);
    const root = mkdtempSync(join(tmpdir(), 'bramble-simulated-host-'));
    const config = checkServeConfig(
      {
        listen: { host: '127.0.0.1', port: 0 },
        models: 'models',
        // Large enough that rotation never splits the story's log; the monitor reads rotated files too (test/monitor.test.ts).
        log: { dir: 'logs', maxBytes: 64 * 1024 * 1024, files: 2 },
        environments: { prod: { path: '/prod' } },
      },
      'serve.json',
      root,
    );
    await writeCandidate(config.models, 'prod', text, { name: 'churn', version: 'v1.0.0', sha256: artifact.sha256 });
    const server = await startServer(config, { env: {}, version: 'test', warn: () => undefined });
    const { table } = await readTable(join(dir, 'data/churn.csv'), { columns: { TotalCharges: { type: 'number', nullable: true } } });
    const host = new SimulatedHost(dir, join(root, 'logs'), server, {
        sha256: artifact.sha256,
        inputs: artifact.signature.inputs.map((i) => i.name),
        numbers: new Set(artifact.signature.inputs.filter((i) => i.kind === 'number').map((i) => i.name)),
        classes: artifact.signature.classes,
      }, table);
    expect((await host.post('/admin/deploy/prod', {})).status).toBe(200);
    return host;
  }

  /** POST a JSON body; the answer's status and JSON. */
  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const text = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(`${this.server.url}${path}`, { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers } }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: data === '' ? {} : (JSON.parse(data) as Record<string, unknown>) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(text);
    });
  }

  /** A row of the template's data drawn at random: the model's inputs and customerID, and its Churn. */
  private draw(): { row: Row; truth: string } {
    const k = Math.floor(this.random() * this.table.rows);
    const row: Row = { customerID: cellValue(getColumn(this.table, 'customerID'), k) };
    for (const name of this.artifact.inputs) row[name] = cellValue(getColumn(this.table, name), k);
    return { row, truth: String(cellValue(getColumn(this.table, 'Churn'), k)) };
  }

  /** One single-row request through the Open Inference Protocol (which answers with the probabilities). */
  private async predict(id: string, row: Row): Promise<{ probabilities: number[]; predicted: string }> {
    const inputs = Object.entries(row).map(([name, value]) => ({ name, shape: [1], datatype: this.artifact.numbers.has(name) ? 'FP64' : 'BYTES', data: [value] }));
    const answer = await this.post('/prod/v2/models/churn/infer', { inputs }, { 'x-request-id': id });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const outputs = answer.json.outputs as { name: string; data: unknown[] }[];
    return { predicted: String(outputs[0].data[0]), probabilities: outputs[1].data as number[] };
  }

  /**
   * `count` requests on day `day` of the story (0 = STORY.start), MonthlyCharges × STORY.factor when `shifted`;
   * the truth fed back for STORY.feedback of them. `clock` sets the faked Date before each batch.
   */
  async traffic(day: number, count: number, shifted: boolean, clock: (ms: number) => void, batch = 8): Promise<Sent[]> {
    const sent: Sent[] = [];
    for (let i = 0; i < count; i += batch) {
      // Spread over the day from 00:00 to 23:59, never past it.
      clock(STORY.start + day * DAY_MS + Math.floor((i / count) * (DAY_MS - 120_000)));
      const jobs: Promise<Sent>[] = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        const { row, truth } = this.draw();
        if (shifted && typeof row[STORY.column] === 'number') row[STORY.column] = (row[STORY.column] as number) * STORY.factor;
        const fedBack = this.random() < STORY.feedback;
        const id = `story-${this.next++}`;
        jobs.push(
          this.predict(id, row).then(async (answer): Promise<Sent> => {
            if (fedBack) expect((await this.post('/prod/feedback', { id, truth })).status).toBe(202);
            return { id, day, shifted, row, truth, fedBack, ...answer };
          }),
        );
      }
      for (const s of await Promise.all(jobs)) sent.push(s);
    }
    for (const s of sent) this.sent.push(s);
    await this.server.log.flush();
    return sent;
  }

  /** STORY.days, in order. */
  async story(clock: (ms: number) => void): Promise<void> {
    for (const [day, count, shifted] of STORY.days) await this.traffic(day, count, shifted, clock);
  }

  private closed = false;

  /** Stops the server (writing out its log) once; later calls do nothing. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
    await this.server.close();
  }
}

/** What was sent on `day` and fed back: the rows the live metrics of that window are computed on. */
export function joinedOn(sent: readonly Sent[], day: number): { labels: string[]; probabilities: number[][] } {
  const rows = sent.filter((s) => s.day === day && s.fedBack);
  return { labels: rows.map((s) => s.truth), probabilities: rows.map((s) => s.probabilities) };
}
