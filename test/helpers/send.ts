// One HTTP request on a connection of its own (agent: false), so that a cluster's workers each take some: what the
// serve tests that run `bramble serve` as a process send.
import { request } from 'node:http';

export interface Answer {
  status: number;
  /** The x-bramble-model header: NAME@VERSION of who answered. */
  model: string;
  /** The x-bramble-role header: main, canary or mixed. */
  role: string;
  body: string;
}

export function send(url: string, method: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, model: String(res.headers['x-bramble-model'] ?? ''), role: String(res.headers['x-bramble-role'] ?? ''), body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
