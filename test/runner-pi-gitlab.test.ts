// runner-pi/install.sh --gitlab URL (issue 13): a GitLab runner with a shell executor, the binary pinned by version
// and checked against GitLab's signed release.sha256 by runner-pi/gitlab-runner-verify.sh, registered with a glrt-
// token that reaches gitlab-runner only in its environment. install.sh runs in its dry-run mode; the verification
// script runs for real against a key and a signature made here with gpg (GitLab's own key signs nothing here), and
// the function that hands the token over runs for real against a stand-in that records what it was given.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filesHolding, has, here, install, makeCheckout, read, Scratch, script } from './helpers/runner-pi.js';

const TOKEN = 'glrt-t3st_RunnerAuthToken-8c1f';
const VERSION = /^readonly GITLAB_RUNNER_VERSION=(\S+)$/m.exec(read(script))?.[1] ?? '';
const FINGERPRINT = /^readonly GITLAB_RUNNER_KEY_FPR=([0-9A-F]{40})$/m.exec(read(script))?.[1] ?? '';
const verifier = join(here, 'gitlab-runner-verify.sh');

const scratch = new Scratch('bramble-runner-pi-gitlab-test-');
afterAll(() => scratch.remove());

const gitlabArgs = (root: string, from: string) => ['--dry-run', '--root', root, '--from', from, '--gitlab', 'https://gitlab.example.com'];

describe('install.sh --dry-run --gitlab URL', () => {
  it('downloads the pinned gitlab-runner with its signed release.sha256, checks both, installs the service and registers it with the token in its environment only', () => {
    const root = scratch.fresh('gitlab');
    const r = install([...gitlabArgs(root, makeCheckout(scratch)), '--runner-name', 'pi-one'], { RUNNER_TOKEN: TOKEN, BRAMBLE_ARCH: 'aarch64' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(VERSION).toBe('19.3.0');
    const dl = '/opt/bramble/.gitlab-runner-download';
    const release = `https://gitlab-runner-downloads.s3.amazonaws.com/v${VERSION}`;
    const runnerLines = r.lines.slice(r.lines.indexOf("would run: useradd --system --user-group --home-dir /home/bramble-runner --no-create-home --shell /usr/sbin/nologin --comment 'GitLab runner' bramble-runner"));
    expect(runnerLines.slice(0, 14)).toEqual([
      "would run: useradd --system --user-group --home-dir /home/bramble-runner --no-create-home --shell /usr/sbin/nologin --comment 'GitLab runner' bramble-runner",
      'would run: usermod --append --groups bramble bramble-runner',
      'created: /home/bramble-runner (bramble-runner:bramble-runner 750)',
      `would run: curl -fsSL --retry 3 -o ${dl}/gitlab-runner-linux-arm64 ${release}/binaries/gitlab-runner-linux-arm64`,
      `would run: curl -fsSL --retry 3 -o ${dl}/release.sha256 ${release}/release.sha256`,
      `would run: curl -fsSL --retry 3 -o ${dl}/release.sha256.asc ${release}/release.sha256.asc`,
      `would check: release.sha256.asc signs release.sha256 with the key ${FINGERPRINT}, and release.sha256 lists the sha256 of binaries/gitlab-runner-linux-arm64`,
      `would run: install -m 0755 -o root -g root ${dl}/gitlab-runner-linux-arm64 /usr/local/bin/gitlab-runner`,
      `would run: rm -rf ${dl}`,
      `created: /opt/bramble/.gitlab-runner-version (gitlab-runner ${VERSION})`,
      'would run: /usr/local/bin/gitlab-runner install --user bramble-runner --working-directory /home/bramble-runner --config /etc/gitlab-runner/config.toml --service gitlab-runner',
      'would run: systemctl enable --now gitlab-runner.service',
      'would run: /usr/local/bin/gitlab-runner register --non-interactive --url https://gitlab.example.com --executor shell --name pi-one --config /etc/gitlab-runner/config.toml (the token in its environment as CI_SERVER_TOKEN)',
      expect.stringMatching(/^note: the nginx site/),
    ]);
    // No GitHub runner beside it.
    expect(r.stdout).not.toContain('actions-runner');
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(filesHolding(root, TOKEN)).toEqual([]);
  });

  it('takes the amd64 build on x86_64 (with --allow-non-pi)', () => {
    const r = install([...gitlabArgs(scratch.fresh('gitlab-x64'), makeCheckout(scratch)), '--allow-non-pi'], { RUNNER_TOKEN: TOKEN, BRAMBLE_ARCH: 'x86_64' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`/v${VERSION}/binaries/gitlab-runner-linux-amd64`);
    expect(r.stdout).toMatch(/--executor shell --name \S+ --config \/etc\/gitlab-runner\/config\.toml \(the token/);
  });

  /** A dry run under a fresh root, then what the real commands would have left: binary, unit, registered configuration. */
  function installedRunner(label: string): { root: string; from: string } {
    const root = scratch.fresh(label);
    const from = makeCheckout(scratch);
    expect(install(gitlabArgs(root, from), { RUNNER_TOKEN: TOKEN, BRAMBLE_ARCH: 'aarch64' }).status).toBe(0);
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/local/bin/gitlab-runner'), '#!/bin/sh\n');
    writeFileSync(join(root, 'etc/systemd/system/gitlab-runner.service'), '[Unit]\n');
    mkdirSync(join(root, 'etc/gitlab-runner'));
    writeFileSync(join(root, 'etc/gitlab-runner/config.toml'), 'concurrent = 1\n\n[[runners]]\n  name = "pi-one"\n');
    return { root, from };
  }

  it('leaves an installed, registered runner alone, and needs no token for it', () => {
    const { root, from } = installedRunner('gitlab-registered');
    const r = install(gitlabArgs(root, from), { BRAMBLE_ARCH: 'aarch64' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.lines.filter((line) => !/^(exists|unchanged|note|done): /.test(line))).toEqual([]);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        `unchanged: /usr/local/bin/gitlab-runner (gitlab-runner ${VERSION})`,
        'exists: /etc/systemd/system/gitlab-runner.service',
        expect.stringMatching(/^exists: \/etc\/gitlab-runner\/config\.toml \(registered; to register again: sudo gitlab-runner unregister --all-runners/),
      ]),
    );
    expect(r.lines.at(-1)).toBe('done: no changes');
  });

  it('installs a new pinned version over an older one, and restarts the service', () => {
    const { root, from } = installedRunner('gitlab-upgrade');
    writeFileSync(join(root, 'opt/bramble/.gitlab-runner-version'), '18.11.4\n');
    const r = install(gitlabArgs(root, from), { BRAMBLE_ARCH: 'aarch64' });
    expect(r.status).toBe(0);
    expect(r.lines).toEqual(expect.arrayContaining([expect.stringMatching(/^would check: release\.sha256\.asc signs/), 'would run: systemctl restart gitlab-runner.service']));
    expect(read(join(root, 'opt/bramble/.gitlab-runner-version'))).toBe(`${VERSION}\n`);
  });
});

describe('install.sh --gitlab refuses', () => {
  it.each([
    ['no token', {}, 1, /^install\.sh: RUNNER_TOKEN is not set\. The GitLab runner's token comes from the environment, never from a file:\n.*New project runner, tag bramble/s],
    ['a registration token', { RUNNER_TOKEN: 'GR1348941-old-registration' }, 2, /^install\.sh: RUNNER_TOKEN is not a runner authentication token \(glrt-\.\.\.\): registration tokens are off by default since GitLab 17\.0;/],
  ])('%s, before it changes anything, without showing the token', (_, env: Record<string, string>, status, message) => {
    const root = scratch.fresh('gitlab-refused');
    const r = install(gitlabArgs(root, makeCheckout(scratch)), { ...env, BRAMBLE_ARCH: 'aarch64' });
    expect(r.status).toBe(status);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    if (env.RUNNER_TOKEN) expect(r.stderr).not.toContain(env.RUNNER_TOKEN);
  });

  it.each([
    [['--gitlab', 'https://gitlab.com', '--repo', 'a/b'], 'install.sh: --gitlab registers a GitLab runner: give it without --repo and --org'],
    [['--gitlab', 'gitlab.com'], "install.sh: --gitlab 'gitlab.com' is not the URL of a GitLab instance (like https://gitlab.com or https://gitlab.example.com)"],
    [['--gitlab', 'https://gitlab.com', '--labels', 'gpu'], "install.sh: --labels is for a GitHub runner; a GitLab runner's tags are set where it is created (Settings -> CI/CD -> Runners), and its glrt- token carries them"],
    [['--gitlab'], 'install.sh: --gitlab needs a value (see --help)'],
  ])('wrong options %j with status 2', (args, message) => {
    const r = install(args);
    expect(r.stderr).toBe(`${message}\n`);
    expect(r.status).toBe(2);
  });

  it('lists --gitlab in its help', () => {
    expect(install(['--help']).stdout).toMatch(/^ {2}--gitlab URL {9}register a GitLab runner/m);
  });
});

describe('the token reaches gitlab-runner in its environment, never in its arguments', () => {
  it('run_with_token, as install.sh defines it, gives the command CI_SERVER_TOKEN and only that command', () => {
    const dir = scratch.fresh('token');
    const stub = join(dir, 'stub');
    // The stand-in records its arguments and whether it saw the token in its environment.
    writeFileSync(stub, `#!/bin/sh\nprintf '%s\\n' "$@" >"${dir}/argv"\nprintf '%s' "\${CI_SERVER_TOKEN:-}" >"${dir}/env"\n`);
    chmodSync(stub, 0o755);
    const fn = /^run_with_token\(\) \{\n[\s\S]*?\n\}\n/m.exec(read(script))?.[0];
    expect(fn).toBeDefined();
    const harness = [
      'set -euo pipefail',
      'DRY_RUN=0; token=$1; changed() { printf "%s: %s\\n" "$1" "$2"; }; shown() { printf "%s" "$*"; }',
      fn ?? '',
      `run_with_token CI_SERVER_TOKEN "${stub}" register --url https://gitlab.example.com`,
      'printf "after: %s\\n" "${CI_SERVER_TOKEN:-unset}"',
    ].join('\n');
    // stdin is not the test runner's: bash reads ~/.bashrc when its stdin is a socket.
    const r = spawnSync('bash', ['-c', harness, 'harness', TOKEN], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'argv'), 'utf8')).toBe('register\n--url\nhttps://gitlab.example.com\n');
    expect(readFileSync(join(dir, 'env'), 'utf8')).toBe(TOKEN);
    expect(r.stdout).toBe(`run: ${stub} register --url https://gitlab.example.com (the token in its environment as CI_SERVER_TOKEN)\nafter: unset\n`);
  });

  it('install.sh hands the token to no other command: only the GitHub config.sh line and run_with_token use it', () => {
    const uses = read(script)
      .split('\n')
      .filter((line) => /\$\{?token\b/.test(line) && !/^\s*#/.test(line))
      .map((line) => line.trim());
    expect(uses).toEqual([
      'if [[ -n $token ]]; then arg=${arg//"$token"/***}; fi',
      'export "$var=$token"',
      '[[ -n $token ]] || die 1 "RUNNER_TOKEN is not set. The GitLab runner\'s token comes from the environment, never from a file:" \\',
      '[[ $token == glrt-* ]] || die 2 "RUNNER_TOKEN is not a runner authentication token (glrt-...): registration tokens are off by default since GitLab 17.0;" \\',
      '[[ -n $token ]] || die 1 "RUNNER_TOKEN is not set. The runner\'s registration token comes from the environment, never from a file:" \\',
      'run --in "$RUNNER_DIR" runuser -u "$RUNNER_USER" -- ./config.sh --unattended --replace --url "$url" --token "$token" \\',
    ]);
  });
});

/** A throwaway signing key in its own GNUPGHOME: its armored public key and its fingerprint. */
function testKey(dir: string, name: string): { home: string; key: string; fingerprint: string } {
  const home = join(dir, `gnupg-${name}`);
  mkdirSync(home, { mode: 0o700 });
  const gpg = (...args: string[]) => spawnSync('gpg', ['--homedir', home, '--batch', ...args], { encoding: 'utf8' });
  expect(gpg('--passphrase', '', '--quick-gen-key', `${name} <${name}@example.com>`, 'ed25519', 'sign', 'never').status).toBe(0);
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg('--with-colons', '--list-keys').stdout)?.[1] ?? '';
  const key = join(dir, `${name}.asc`);
  writeFileSync(key, gpg('--armor', '--export').stdout);
  return { home, key, fingerprint };
}

function sign(home: string, file: string): void {
  expect(spawnSync('gpg', ['--homedir', home, '--batch', '--yes', '--armor', '--detach-sign', '-o', `${file}.asc`, file]).status).toBe(0);
}

// The keys are made with gpg, which CI installs from Debian (gnupg) beside gpgv.
describe.skipIf(!has('gpg') || !has('gpgv'))('gitlab-runner-verify.sh', () => {
  const NAME = 'binaries/gitlab-runner-linux-arm64';

  /** A release folder: the binary, release.sha256 listing it (as `line` makes the line), signed by `signer`. */
  function release(dir: string, signer: string, line = (sum: string) => `${sum}\t${NAME}`): { sums: string; binary: string } {
    mkdirSync(join(dir, 'binaries'), { recursive: true });
    const binary = join(dir, NAME);
    writeFileSync(binary, 'the runner\n');
    const sum = spawnSync('sha256sum', [binary], { encoding: 'utf8' }).stdout.split(' ')[0];
    const sums = join(dir, 'release.sha256');
    writeFileSync(sums, `${'0'.repeat(64)}\tbinaries/gitlab-runner-linux-amd64\n${line(sum)}\n`);
    sign(signer, sums);
    return { sums, binary };
  }

  const verify = (key: string, fingerprint: string, sums: string, binary: string, name = NAME) =>
    spawnSync('bash', [verifier, key, fingerprint, sums, `${sums}.asc`, binary, name], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });

  it.each([
    ['tab-separated', (sum: string) => `${sum}\t${NAME}`],
    ['sha256sum binary mode', (sum: string) => `${sum} *${NAME}`],
    ['with ./', (sum: string) => `${sum}  ./${NAME}`],
  ])('passes a binary listed (%s) in a list the pinned key signed', (_: string, line: (sum: string) => string) => {
    const dir = scratch.fresh('verify-good');
    const k = testKey(dir, 'gitlab');
    const { sums, binary } = release(dir, k.home, line);
    const r = verify(k.key, k.fingerprint.toLowerCase(), sums, binary);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^checked: ${binary} is ${NAME} of the signed release\\.sha256 \\(sha256 [0-9a-f]{64}, signed by ${k.fingerprint}\\)\\n$`));
  });

  it.each([
    ['a binary that differs from the list', 'binary', /has sha256 [0-9a-f]{64}, but the signed .*release\.sha256 lists [0-9a-f]{64} for binaries\/gitlab-runner-linux-arm64$/],
    ['a list changed after it was signed', 'sums', /release\.sha256\.asc is not a good signature of .*release\.sha256 by the key [0-9A-F]{40}: .*BAD signature/],
    ['a list signed by another key', 'other-signer', /release\.sha256\.asc is not a good signature of .*release\.sha256 by the key [0-9A-F]{40}: .*No public key/],
    ['a key file that is not the pinned key', 'other-key', /release\.sha256 is signed by the key [0-9A-F]{40}, not by [0-9A-F]{40}$/],
    ['a list without the binary', 'name', /release\.sha256 lists no binaries\/gitlab-runner-linux-riscv64$/],
    ['a key file that is no key', 'not-a-key', /is not an ASCII-armored OpenPGP public key$/],
  ])('refuses %s', (_: string, change: string, message: RegExp) => {
    const dir = scratch.fresh('verify-bad');
    const pinned = testKey(dir, 'gitlab');
    const other = testKey(dir, 'mallory');
    const { sums, binary } = release(dir, change === 'other-signer' ? other.home : pinned.home);
    let key = pinned.key;
    let fingerprint = pinned.fingerprint;
    let name = NAME;
    if (change === 'binary') writeFileSync(binary, 'the runner, patched\n');
    if (change === 'sums') writeFileSync(sums, read(sums).replace('0000', '1111'));
    if (change === 'other-key') fingerprint = other.fingerprint;
    if (change === 'name') name = 'binaries/gitlab-runner-linux-riscv64';
    if (change === 'not-a-key') {
      key = join(dir, 'not-a-key.asc');
      writeFileSync(key, 'hello\n');
    }
    const r = verify(key, fingerprint, sums, binary, name);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith('gitlab-runner-verify.sh: ')).toBe(true);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('takes six arguments and a 40-digit fingerprint (status 2)', () => {
    expect(spawnSync('bash', [verifier, 'a', 'b'], { encoding: 'utf8' })).toMatchObject({ status: 2, stderr: 'gitlab-runner-verify.sh: usage: gitlab-runner-verify.sh KEY FINGERPRINT SUMS SIGNATURE FILE NAME\n' });
    const r = spawnSync('bash', [verifier, script, 'ABC', script, script, script, NAME], { encoding: 'utf8' });
    expect(r).toMatchObject({ status: 2, stderr: "gitlab-runner-verify.sh: the fingerprint 'ABC' is not 40 hexadecimal digits\n" });
  });
});

describe('the pinned GitLab Runner signing key', () => {
  it('is the key file of gitlab-org/gitlab-runner v19.3.0, unchanged, with the fingerprint install.sh pins', (ctx) => {
    const key = join(here, 'gitlab-runner-signing-key.asc');
    expect(spawnSync('sha256sum', [key], { encoding: 'utf8' }).stdout.split(' ')[0]).toBe('ea7c55aa780e6eba63c79c00ba64906d4224b047e86a80d8b63faf9f5e93016a');
    expect(read(script)).toContain('sha256 ea7c55aa780e6eba63c79c00ba64906d4224b047e86a80d8b63faf9f5e93016a');
    expect(FINGERPRINT).toBe('931DA69CFA3AFEBBC97DAA8C6C57C29C6BA75A4E');
    if (!has('gpg')) ctx.skip('gpg is not installed (apt-get install gnupg)');
    const home = scratch.fresh('gnupg-show');
    chmodSync(home, 0o700);
    const shown = spawnSync('gpg', ['--homedir', home, '--batch', '--with-colons', '--show-keys', key], { encoding: 'utf8' }).stdout;
    expect(/^fpr:+([0-9A-F]{40}):/m.exec(shown)?.[1]).toBe(FINGERPRINT);
    expect(shown).toMatch(/^uid:.*GitLab, Inc\. <support@gitlab\.com>/m);
  });

  it('shellcheck passes gitlab-runner-verify.sh', (ctx) => {
    if (!has('shellcheck')) ctx.skip('shellcheck is not installed (apt-get install shellcheck)');
    const r = spawnSync('shellcheck', [verifier], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
