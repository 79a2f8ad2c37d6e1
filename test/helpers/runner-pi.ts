// runner-pi/install.sh as its tests run it: in its dry-run mode under a temporary root, with only the test's
// variables (none of RUNNER_TOKEN, BRAMBLE_ARCH, BRAMBLE_NODE leak in from the shell that runs the tests), and the
// small things those tests look at (a stand-in checkout, a tree of modes and hashes).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const here = join(repo, 'runner-pi');
export const script = join(here, 'install.sh');

/** A temporary folder for a test file, handing out a fresh subfolder per call; `remove()` in afterAll. */
export class Scratch {
  private root: string | null = null;
  count = 0;

  constructor(private readonly prefix: string) {}

  fresh(label: string): string {
    this.root ??= mkdtempSync(join(tmpdir(), this.prefix));
    const dir = join(this.root, `${label}-${this.count++}`);
    mkdirSync(dir);
    return dir;
  }

  remove(): void {
    if (this.root !== null) rmSync(this.root, { recursive: true, force: true });
  }
}

export function has(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** install.sh with the test's variables only: none of RUNNER_TOKEN, BRAMBLE_ARCH, BRAMBLE_NODE leak in. */
export function install(args: string[], env: Record<string, string> = {}): Run {
  const base = { ...process.env };
  for (const name of ['RUNNER_TOKEN', 'BRAMBLE_ARCH', 'BRAMBLE_NODE']) delete base[name];
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...base, LANG: 'C', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split('\n').filter(Boolean) };
}

/** A small stand-in for a Bramble checkout: fast to copy, and nobody else edits it while the tests run. */
export function makeCheckout(scratch: Scratch): string {
  const dir = scratch.fresh('checkout');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bramble', version: '0.0.0-test' }, null, 2) + '\n');
  writeFileSync(join(dir, 'package-lock.json'), '{}\n');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'cli.ts'), "console.log('bramble');\n");
  writeFileSync(join(dir, 'src', 'old.ts'), 'export {};\n');
  mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'left-pad', 'index.js'), '');
  return dir;
}

/** Every path under root with its kind, mode and content hash (or link target). */
export function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, path));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[path] = `link ${readlinkSync(join(root, path))}`;
      else if (st.isDirectory()) {
        out[path] = `dir ${mode}`;
        walk(path);
      } else out[path] = `file ${mode} ${createHash('sha256').update(readFileSync(join(root, path))).digest('hex')}`;
    }
  };
  walk('');
  return out;
}

/** The files under root whose bytes contain `secret`. */
export function filesHolding(root: string, secret: string): string[] {
  return Object.keys(tree(root)).filter((path) => {
    const full = join(root, path);
    return lstatSync(full).isFile() && readFileSync(full).includes(secret);
  });
}

export const mode = (path: string) => (statSync(path).mode & 0o7777).toString(8);
export const read = (path: string) => readFileSync(path, 'utf8');
