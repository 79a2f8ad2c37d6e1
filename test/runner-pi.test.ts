// runner-pi/: install.sh run for real in its dry-run mode (the file work goes into a temporary root, commands are
// only printed), the unit checked by systemd-analyze, the script by shellcheck, and the nginx site served by a real
// nginx in front of two model-server stand-ins on 127.0.0.1. The tools come from Debian's packages (.ci/run).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { filesHolding, has, here, install, makeCheckout, mode, read, repo, Scratch, script, tree } from './helpers/runner-pi.js';

const TOKEN = 'AAT3ST-registration-token-4f9c2e';

const scratch = new Scratch('bramble-runner-pi-test-');
afterAll(() => scratch.remove());
const fresh = (label: string) => scratch.fresh(label);

const hostOnly = (root: string, from = repo) => ['--dry-run', '--root', root, '--allow-non-pi', '--no-runner', '--from', from];

describe('install.sh --dry-run: a model host', () => {
  it('puts every file in place under --root with its mode, and prints the commands instead of running them', () => {
    const root = fresh('host');
    const r = install(hostOnly(root));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);

    expect(read(join(root, 'etc/systemd/system/bramble-serve.service'))).toBe(read(join(here, 'bramble-serve.service')));
    expect(read(join(root, 'etc/logrotate.d/bramble'))).toBe(read(join(here, 'logrotate.conf')));
    expect(read(join(root, 'etc/nginx/sites-available/bramble'))).toBe(read(join(here, 'nginx/bramble.conf')));
    expect(existsSync(join(root, 'etc/nginx/sites-enabled'))).toBe(false);
    expect(read(join(root, 'etc/bramble/serve.json'))).toBe(read(join(here, 'serve.json')));
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/bramble-serve.service'))).toBe(
      '/etc/systemd/system/bramble-serve.service',
    );
    expect(read(join(root, 'usr/local/bin/bramble'))).toContain('exec /usr/bin/node /opt/bramble/dist/cli.js "$@"');

    // The server refuses to start while prod's tokenEnv is unset: a new serve.env carries a random one.
    const env = read(join(root, 'etc/bramble/serve.env'));
    expect(env).toMatch(/^BRAMBLE_PROD_TOKEN=[0-9a-f]{64}$/m);
    expect(env).not.toMatch(/^BRAMBLE_ADMIN_TOKEN=/m);
    // The git token is the user's to fill in (a read-only token for the model repository), never a random one.
    expect(env).toMatch(/^BRAMBLE_GIT_TOKEN=$/m);
    expect(r.stdout).not.toContain(/^BRAMBLE_PROD_TOKEN=(.*)$/m.exec(env)![1]);

    expect({
      'etc/bramble': mode(join(root, 'etc/bramble')),
      'etc/bramble/serve.json': mode(join(root, 'etc/bramble/serve.json')),
      'etc/bramble/serve.env': mode(join(root, 'etc/bramble/serve.env')),
      'etc/systemd/system/bramble-serve.service': mode(join(root, 'etc/systemd/system/bramble-serve.service')),
      'usr/local/bin/bramble': mode(join(root, 'usr/local/bin/bramble')),
      'var/lib/bramble': mode(join(root, 'var/lib/bramble')),
      'var/lib/bramble/models': mode(join(root, 'var/lib/bramble/models')),
      'var/lib/bramble/models/prod': mode(join(root, 'var/lib/bramble/models/prod')),
      'var/lib/bramble/models/staging': mode(join(root, 'var/lib/bramble/models/staging')),
      'var/lib/bramble/models/dev': mode(join(root, 'var/lib/bramble/models/dev')),
      'var/log/bramble': mode(join(root, 'var/log/bramble')),
      'var/log/bramble/predictions': mode(join(root, 'var/log/bramble/predictions')),
    }).toEqual({
      'etc/bramble': '755',
      'etc/bramble/serve.json': '644',
      'etc/bramble/serve.env': '600',
      'etc/systemd/system/bramble-serve.service': '644',
      'usr/local/bin/bramble': '755',
      'var/lib/bramble': '750',
      // The model store is the server's alone: it pulls from git, and the runner may not write a model into it.
      'var/lib/bramble/models': '700',
      'var/lib/bramble/models/prod': '700',
      'var/lib/bramble/models/staging': '700',
      'var/lib/bramble/models/dev': '700',
      'var/log/bramble': '2750',
      'var/log/bramble/predictions': '2750',
    });

    // The checkout's sources, without its node_modules, .git or dist: /opt/bramble builds its own.
    expect(read(join(root, 'opt/bramble/package.json'))).toBe(read(join(repo, 'package.json')));
    expect(existsSync(join(root, 'opt/bramble/src/cli.ts'))).toBe(true);
    for (const absent of ['node_modules', '.git', 'dist', 'test']) expect(existsSync(join(root, 'opt/bramble', absent))).toBe(false);

    expect(read(join(root, 'etc/passwd'))).toBe('bramble:x:999:999:Bramble model server:/var/lib/bramble:/usr/sbin/nologin\n');
    expect(r.lines).toEqual(
      expect.arrayContaining([
        "would run: useradd --system --user-group --home-dir /var/lib/bramble --no-create-home --shell /usr/sbin/nologin --comment 'Bramble model server' bramble",
        'created: /var/lib/bramble/models (bramble:bramble 700)',
        'created: /etc/bramble/serve.env (root:root 600)',
        'would run: cd /opt/bramble && npm ci --ignore-scripts --no-audit --no-fund',
        'would run: cd /opt/bramble && npm run build',
        'would run: cd /opt/bramble && npm prune --omit=dev --ignore-scripts --no-audit --no-fund',
        'would run: systemctl daemon-reload',
        'would run: systemctl enable --now bramble-serve.service',
      ]),
    );
    expect(r.stdout).not.toMatch(/actions-runner|config\.sh/);
  });

  it('a second run changes nothing, and keeps the configuration people edited', () => {
    const root = fresh('again');
    const from = makeCheckout(scratch);
    expect(install(hostOnly(root, from)).status).toBe(0);
    writeFileSync(join(root, 'etc/bramble/serve.json'), read(join(here, 'serve.json')).replace('"port": 8080', '"port": 9090'));
    writeFileSync(join(root, 'etc/bramble/serve.env'), 'BRAMBLE_PROD_TOKEN=mine\n');
    writeFileSync(join(root, 'etc/nginx/sites-available/bramble'), '# my Pis\n');
    const before = tree(root);

    const r = install(hostOnly(root, from));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.lines.filter((line) => !/^(exists|unchanged|note|done): /.test(line))).toEqual([]);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        'exists: user bramble',
        'exists: /etc/bramble/serve.json (kept as it is)',
        'exists: /etc/bramble/serve.env (kept as it is)',
        'unchanged: /etc/systemd/system/bramble-serve.service',
        'unchanged: bramble-serve.service (enabled)',
      ]),
    );
    expect(r.lines.at(-1)).toBe('done: no changes');
    expect(tree(root)).toEqual(before);
    expect(read(join(root, 'etc/bramble/serve.json'))).toContain('"port": 9090');
    expect(read(join(root, 'etc/bramble/serve.env'))).toBe('BRAMBLE_PROD_TOKEN=mine\n');
  });

  it('copies a changed checkout again, rebuilds and restarts the server', () => {
    const root = fresh('upgrade');
    const from = makeCheckout(scratch);
    expect(install(hostOnly(root, from)).status).toBe(0);
    writeFileSync(join(from, 'src', 'cli.ts'), "console.log('bramble 2');\n");
    rmSync(join(from, 'src', 'old.ts'));

    const r = install(hostOnly(root, from));
    expect(r.status).toBe(0);
    expect(read(join(root, 'opt/bramble/src/cli.ts'))).toBe("console.log('bramble 2');\n");
    expect(existsSync(join(root, 'opt/bramble/src/old.ts'))).toBe(false);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        'would run: cd /opt/bramble && npm ci --ignore-scripts --no-audit --no-fund',
        'would run: systemctl restart bramble-serve.service',
      ]),
    );
    expect(r.lines).not.toContain('would run: systemctl daemon-reload');
  });

  it('replaces a unit that differs from the shipped one and puts back the mode of serve.env', () => {
    const root = fresh('repair');
    const from = makeCheckout(scratch);
    expect(install(hostOnly(root, from)).status).toBe(0);
    writeFileSync(join(root, 'etc/systemd/system/bramble-serve.service'), '[Service]\nExecStart=/bin/true\n');
    chmodSync(join(root, 'etc/bramble/serve.env'), 0o644);

    const r = install(hostOnly(root, from));
    expect(r.status).toBe(0);
    expect(read(join(root, 'etc/systemd/system/bramble-serve.service'))).toBe(read(join(here, 'bramble-serve.service')));
    expect(mode(join(root, 'etc/bramble/serve.env'))).toBe('600');
    expect(r.lines).toEqual(
      expect.arrayContaining([
        'fixed: /etc/bramble/serve.env mode 644 -> 600',
        'updated: /etc/systemd/system/bramble-serve.service (root:root 644)',
        'would run: systemctl daemon-reload',
        'would run: systemctl restart bramble-serve.service',
      ]),
    );
  });

  it('creates the folder of an environment added to serve.json', () => {
    const root = fresh('env');
    const from = makeCheckout(scratch);
    expect(install(hostOnly(root, from)).status).toBe(0);
    const config = JSON.parse(read(join(root, 'etc/bramble/serve.json'))) as { environments: Record<string, object> };
    config.environments.canary = { path: '/canary', model: 'churn', tokenEnv: 'BRAMBLE_CANARY_TOKEN' };
    writeFileSync(join(root, 'etc/bramble/serve.json'), JSON.stringify(config));

    const r = install(hostOnly(root, from));
    expect(r.status).toBe(0);
    expect(mode(join(root, 'var/lib/bramble/models/canary'))).toBe('700');
    expect(r.lines).toEqual(
      expect.arrayContaining([
        'created: /var/lib/bramble/models/canary (bramble:bramble 700)',
        'note: /etc/bramble/serve.json names the token variable BRAMBLE_CANARY_TOKEN, which /etc/bramble/serve.env does not set: the server will not start until it does',
      ]),
    );
  });
});

describe('install.sh refuses', () => {
  it.each(['armv7l', 'armv6l'])('32-bit ARM (%s), before it changes anything', (arch) => {
    const root = fresh('arm32');
    const r = install(hostOnly(root), { BRAMBLE_ARCH: arch });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `install.sh: refusing to install on ${arch} (32-bit ARM): GitHub's runner has no Node 24 build for 32-bit ARM (armv7l/armv6l).\n` +
        '  Install the 64-bit Raspberry Pi OS (it runs on a Raspberry Pi 3, 4, 5 and Zero 2 W) and run this again.\n',
    );
    expect(r.stdout).toBe('');
    expect(readdirSync(root)).toEqual([]);
  });

  it('x86_64 without --allow-non-pi', () => {
    const root = fresh('x86');
    const r = install(['--dry-run', '--root', root, '--no-runner'], { BRAMBLE_ARCH: 'x86_64' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'install.sh: refusing to install on x86_64: this is for a Raspberry Pi with a 64-bit OS (aarch64); pass --allow-non-pi to install on x86_64 anyway (for testing)\n',
    );
  });

  it.each(['', undefined])('a runner without RUNNER_TOKEN (%j), before it changes anything', (token) => {
    const root = fresh('no-token');
    const r = install(['--dry-run', '--root', root, '--allow-non-pi', '--repo', 'acme/churn'], token === undefined ? {} : { RUNNER_TOKEN: token });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      "install.sh: RUNNER_TOKEN is not set. The runner's registration token comes from the environment, never from a file:\n" +
        "  get one under the repository's Settings -> Actions -> Runners -> New self-hosted runner,\n" +
        '  or with: gh api -X POST repos/OWNER/REPO/actions/runners/registration-token --jq .token\n' +
        `  then run: sudo RUNNER_TOKEN=... ${script} --repo OWNER/REPO (or pass --no-runner for a model host only).\n`,
    );
    expect(readdirSync(root)).toEqual([]);
  });

  it('a Node.js older than 20.19, and says how to install a newer one', () => {
    const root = fresh('old-node');
    const node = join(root, '..', `node18-${scratch.count}`);
    writeFileSync(node, '#!/bin/sh\necho v18.19.0\n', { mode: 0o755 });
    const r = install(hostOnly(root), { BRAMBLE_NODE: node });
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').slice(0, 3)).toEqual([
      `install.sh: ${node} is Node.js v18.19.0.`,
      '  Node.js 20.19 or newer must be at /usr/bin/node, which bramble-serve.service runs.',
      '  Raspberry Pi OS 12 (Debian bookworm) ships Node 18; install Node 24 from NodeSource:',
    ]);
    expect(r.stderr).toContain('https://deb.nodesource.com/setup_24.x');
    expect(readdirSync(root)).toEqual([]);
  });

  it.each([
    [['--bogus'], "install.sh: unknown option '--bogus' (see --help)"],
    [['--dry-run'], 'install.sh: --dry-run needs --root DIR: the files are written there instead of /'],
    [['--root', '/tmp/x'], 'install.sh: --root DIR is only for --dry-run'],
    [['--repo', 'churn'], "install.sh: --repo 'churn' is not OWNER/REPO"],
    [['--repo', 'a/b', '--org', 'a'], 'install.sh: give --repo or --org, not both'],
    [['--labels', 'gpu, pi1'], "install.sh: --labels 'gpu, pi1' must be a comma-separated list of letters, digits, '.', '_' and '-'"],
  ])('wrong options %j with status 2', (args, message) => {
    const r = install(args);
    expect(r.stderr).toBe(message + '\n');
    expect(r.status).toBe(2);
  });

  it('prints its help', () => {
    const r = install(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: sudo \[RUNNER_TOKEN=\.\.\.\] runner-pi\/install\.sh \[options\]$/m);
    for (const flag of ['--repo', '--org', '--runner-name', '--labels', '--no-runner', '--from', '--dry-run', '--root', '--allow-non-pi']) {
      expect(r.stdout).toContain(`  ${flag}`);
    }
  });
});

describe('install.sh --dry-run: the GitHub Actions runner', () => {
  const runnerArgs = (root: string, from: string) => ['--dry-run', '--root', root, '--repo', 'acme/churn', '--from', from];

  it('downloads the pinned arm64 runner, checks its sum and registers it with the label bramble, never showing the token', () => {
    const root = fresh('runner');
    const r = install([...runnerArgs(root, makeCheckout(scratch)), '--labels', 'gpu,bramble,pi1', '--runner-name', 'pi-one'], {
      RUNNER_TOKEN: TOKEN,
      BRAMBLE_ARCH: 'aarch64',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const tarball = 'actions-runner-linux-arm64-2.336.0.tar.gz';
    expect(r.lines).toEqual(
      expect.arrayContaining([
        "would run: useradd --system --user-group --home-dir /home/bramble-runner --no-create-home --shell /usr/sbin/nologin --comment 'GitHub Actions runner' bramble-runner",
        'would run: usermod --append --groups bramble bramble-runner',
        `would run: curl -fsSL --retry 3 -o /opt/actions-runner/${tarball} https://github.com/actions/runner/releases/download/v2.336.0/${tarball}`,
        `would check: sha256 of /opt/actions-runner/${tarball} is 58b758e420b87093fbd4bfddd368074960053e2f1388f01848c82624b90f27d1`,
        `would run: runuser -u bramble-runner -- tar -xzf /opt/actions-runner/${tarball} -C /opt/actions-runner --no-overwrite-dir`,
        'would run: cd /opt/actions-runner && runuser -u bramble-runner -- ./config.sh --unattended --replace --url https://github.com/acme/churn --token *** --labels bramble,gpu,pi1 --name pi-one --work _work',
        'would run: cd /opt/actions-runner && ./svc.sh install bramble-runner',
        'would run: cd /opt/actions-runner && ./svc.sh start',
      ]),
    );
    expect(mode(join(root, 'opt/actions-runner'))).toBe('750');
    expect(mode(join(root, 'home/bramble-runner'))).toBe('750');
    expect(read(join(root, 'etc/group'))).toBe('bramble:x:999:bramble-runner\nbramble-runner:x:998:\n');
    // No sudo for the runner user: its only group besides its own is bramble.
    expect(read(join(root, 'etc/group'))).not.toMatch(/^(sudo|adm|wheel):/m);

    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(filesHolding(root, TOKEN)).toEqual([]);
  });

  it('an organisation runner on x86_64 (with --allow-non-pi) takes the x64 build', () => {
    const root = fresh('org');
    const r = install(['--dry-run', '--root', root, '--allow-non-pi', '--org', 'acme', '--from', makeCheckout(scratch)], {
      RUNNER_TOKEN: TOKEN,
      BRAMBLE_ARCH: 'x86_64',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('is 04cf0be1aff4c3ec3554466c39124ca250e3effd8873bb7e8d68535aa9505d5d');
    expect(r.stdout).toMatch(/--url https:\/\/github\.com\/acme --token \*\*\* --labels bramble --name \S+ --work _work$/m);
  });

  it('leaves a registered runner alone, and needs no token for it', () => {
    const root = fresh('registered');
    const from = makeCheckout(scratch);
    expect(install(runnerArgs(root, from), { RUNNER_TOKEN: TOKEN, BRAMBLE_ARCH: 'aarch64' }).status).toBe(0);
    // What the runner's own tools leave behind once downloaded (config.sh), registered (.runner) and a service (.service).
    writeFileSync(join(root, 'opt/actions-runner/config.sh'), '#!/bin/bash\n');
    writeFileSync(join(root, 'opt/actions-runner/.runner'), '{}\n');
    writeFileSync(join(root, 'opt/actions-runner/.service'), 'actions.runner.acme-churn.pi-one.service\n');

    const r = install(['--dry-run', '--root', root, '--from', from], { BRAMBLE_ARCH: 'aarch64' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.lines.filter((line) => !/^(exists|unchanged|note|done): /.test(line))).toEqual([]);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        'exists: user bramble-runner',
        'exists: bramble-runner in group bramble',
        'exists: runner service actions.runner.acme-churn.pi-one.service',
      ]),
    );
    expect(r.lines.at(-1)).toBe('done: no changes');
  });
});

describe('checked by the tools CI installs from Debian', () => {
  it('shellcheck passes install.sh', (ctx) => {
    if (!has('shellcheck')) ctx.skip('shellcheck is not installed (apt-get install shellcheck)');
    const r = spawnSync('shellcheck', [script], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('systemd-analyze verify passes the unit, and would catch a broken one', (ctx) => {
    if (!has('systemd-analyze')) ctx.skip('systemd-analyze is not installed (apt-get install systemd)');
    const dir = fresh('unit');
    // verify checks that ExecStart's program exists: here the unit runs this machine's node if /usr/bin/node is absent.
    const unit = read(join(here, 'bramble-serve.service'));
    const verify = (text: string) => {
      const path = join(dir, 'bramble-serve.service');
      writeFileSync(path, existsSync('/usr/bin/node') ? text : text.replace('/usr/bin/node', process.execPath));
      // Its warnings go to the console, not to a journal that happens to be running.
      return spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', cwd: dir, env: { ...process.env, SYSTEMD_LOG_TARGET: 'console' } });
    };
    const ok = verify(unit);
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    // Warnings do not change verify's exit status, so the check above insists on silence.
    const broken = verify(unit.replace(/^Restart=always$/m, 'Restart=sometimes'));
    expect(broken.stderr).toContain('Failed to parse service restart specifier');
  });

  it('the unit stays hardened: systemd-analyze security rates its exposure at most 2.0', (ctx) => {
    if (!has('systemd-analyze')) ctx.skip('systemd-analyze is not installed (apt-get install systemd)');
    // --threshold counts in tenths: 20 is an exposure of 2.0 (of 10); the unit scores 1.3.
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--threshold=20', join(here, 'bramble-serve.service')], {
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/Overall exposure level for bramble-serve\.service: 1\.\d/);
    expect(r.status).toBe(0);
  });
});

describe('bramble-serve.service', () => {
  const settings = read(join(here, 'bramble-serve.service'))
    .split('\n')
    .filter((line) => /^[A-Za-z]+=/.test(line));

  it('restarts always, runs the server as bramble and is hardened without breaking V8', () => {
    expect(settings).toEqual(
      expect.arrayContaining([
        'Type=simple',
        'User=bramble',
        'ExecStart=/usr/bin/node /opt/bramble/dist/cli.js serve --config /etc/bramble/serve.json',
        'Restart=always',
        'RestartSec=2',
        'StartLimitIntervalSec=0',
        'Environment=NODE_ENV=production',
        'EnvironmentFile=-/etc/bramble/serve.env',
        'LimitNOFILE=65536',
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateTmp=yes',
        'ReadWritePaths=/var/lib/bramble /var/log/bramble',
        'ProtectKernelTunables=yes',
        'ProtectControlGroups=yes',
        'RestrictSUIDSGID=yes',
        'LockPersonality=yes',
        'CapabilityBoundingSet=',
        'AmbientCapabilities=',
        'WantedBy=multi-user.target',
      ]),
    );
    // V8's JIT needs writable, executable memory; /proc/cpuinfo sizes the training pool.
    expect(settings.filter((line) => /^(MemoryDenyWriteExecute|ProcSubset)=/.test(line))).toEqual([]);
  });
});

describe('serve.json and logrotate', () => {
  it('the default serve.json is valid for the server, when its schema is there', (ctx) => {
    const schemaPath = join(repo, 'schemas/serve.schema.json');
    if (!existsSync(schemaPath)) ctx.skip('schemas/serve.schema.json is not in this checkout yet');
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(read(schemaPath)) as object);
    const ok = validate(JSON.parse(read(join(here, 'serve.json'))));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('logrotate takes the service logs beside the prediction logs, never those, as the service user', () => {
    const conf = read(join(here, 'logrotate.conf'));
    const active = conf.split('\n').filter((line) => line.trim() && !line.trim().startsWith('#')).map((line) => line.trim());
    expect(active[0]).toBe('/var/log/bramble/*.log {');
    expect(active).toEqual(expect.arrayContaining(['su bramble bramble', 'copytruncate', 'missingok', 'compress']));
    expect(conf).not.toMatch(/^\s*\/var\/log\/bramble\/predictions/m);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// nginx in front of two stand-ins for the model server

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createTcpServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Seen {
  pi: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

function standIn(pi: string, seen: Seen[]): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    seen.push({ pi, method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      if (pi === 'pi1' && req.url === '/flaky') {
        res.writeHead(503, { 'Content-Type': 'application/json' }).end('{"error":"busy"}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ pi, requestId: req.headers['x-request-id'] }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

async function waitForPort(port: number, nginx: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not listen on ${port}: ${log()}`);
}

describe('nginx/bramble.conf', () => {
  /** The site as shipped, with the Pis' names, the listen port and the paths replaced for a run on loopback. */
  function wrap(dir: string, upstreams: number[], listen: number): string {
    let site = read(join(here, 'nginx/bramble.conf'));
    upstreams.forEach((port, i) => {
      site = site.replace(`server pi${i + 1}.local:8080`, `server 127.0.0.1:${port}`);
    });
    site = site.replace('listen 80;', `listen 127.0.0.1:${listen};`).replace('listen [::]:80;', '');
    writeFileSync(join(dir, 'bramble.conf'), site);
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/bramble.conf;
}
`,
    );
    return conf;
  }

  it('passes nginx -t', async (ctx) => {
    if (!has('nginx')) ctx.skip('nginx is not installed (apt-get install nginx-light)');
    const dir = fresh('nginx-t');
    const conf = wrap(dir, [await freePort(), await freePort()], await freePort());
    const r = spawnSync('nginx', ['-t', '-q', '-c', conf, '-p', dir, '-e', join(dir, 'error.log')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('spreads requests over the Pis, skips one that is down or busy, passes the request id and keeps /admin/ and /metrics inside', async (ctx) => {
    if (!has('nginx')) ctx.skip('nginx is not installed (apt-get install nginx-light)');
    const dir = fresh('nginx-run');
    const seen: Seen[] = [];
    const pi1 = await standIn('pi1', seen);
    const pi2 = await standIn('pi2', seen);
    const port = await freePort();
    const conf = wrap(dir, [pi1.port, pi2.port], port);
    const nginx = spawn('nginx', ['-c', conf, '-p', dir, '-e', join(dir, 'error.log')], { stdio: 'ignore' });
    const log = () => (existsSync(join(dir, 'error.log')) ? read(join(dir, 'error.log')) : '');
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForPort(port, nginx, log);

      const answered = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${base}/ping`);
        expect(res.status).toBe(200);
        answered.add(((await res.json()) as { pi: string }).pi);
      }
      expect([...answered].sort()).toEqual(['pi1', 'pi2']);

      const given = await fetch(`${base}/prod/invocations`, { method: 'POST', headers: { 'X-Request-Id': 'req-42' }, body: '{}' });
      expect(given.headers.get('x-request-id')).toBe('req-42');
      expect(((await given.json()) as { requestId: string }).requestId).toBe('req-42');
      const made = await fetch(`${base}/ping`);
      expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
      expect(((await made.json()) as { requestId: string }).requestId).toBe(made.headers.get('x-request-id'));

      // A Pi answering 503 hands the request to the other one.
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${base}/flaky`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { pi: string }).pi).toBe('pi2');
      }

      seen.length = 0;
      for (const path of ['/admin/deploy/prod', '/%61dmin/deploy/prod', '//admin/deploy/prod']) {
        const res = await fetch(`${base}${path}`, { method: 'POST' });
        expect(res.status, path).toBe(404);
      }
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
      expect(seen).toEqual([]);

      // A Pi that is down: predictions (POSTs) still succeed, on the other one.
      pi1.server.closeAllConnections();
      await new Promise((resolve) => pi1.server.close(resolve));
      for (let i = 0; i < 6; i++) {
        const res = await fetch(`${base}/prod/invocations`, { method: 'POST', body: '{"inputs":[[1]]}' });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { pi: string }).pi).toBe('pi2');
      }
    } finally {
      nginx.kill('SIGTERM');
      if (nginx.exitCode === null) await new Promise((resolve) => nginx.once('exit', resolve));
      pi2.server.closeAllConnections();
      pi2.server.close();
      if (pi1.server.listening) pi1.server.close();
    }
  });
});
