// Containment: ml.yaml comes from a pull request, so its data path may not reach past the model repository.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containedDataPath, DataPathError } from '../src/data/paths.js';
import { bramble } from './helpers/cli.js';
import { editMlYaml, git, makeModelRepo } from './helpers/model-repo.js';

describe('data paths stay inside the model repository', () => {
  it('refuses .. that leaves the repository, naming the path', () => {
    const dir = makeModelRepo();
    const outside = mkdtempSync(join(tmpdir(), 'bramble-outside-'));
    cpSync(join(dir, 'data/churn.csv'), join(outside, 'churn.csv'));
    const escape = `../${outside.split('/').pop()}/churn.csv`;
    editMlYaml(dir, (t) => t.replace('train: data/churn.csv', `train: ${escape}`));
    const r = bramble(['validate', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^bramble: data\\.train in ml\\.yaml is "${escape.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}", which leaves the model repository \\(.+\\); keep the data inside the repository\\n$`));
  });

  it('refuses a symlink to a file outside, such as the runner environment, without printing any of it', () => {
    const dir = makeModelRepo();
    renameSync(join(dir, 'data/churn.csv'), join(dir, 'data/real.csv'));
    symlinkSync('/proc/self/environ', join(dir, 'data/churn.csv'));
    process.env.BRAMBLE_TEST_SECRET = 'do-not-print-me';
    const r = bramble(['validate', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'bramble: data.train in ml.yaml is "data/churn.csv", a link to a file outside the model repository; Bramble reads data only from inside the repository — copy the file in\n',
    );
    expect(r.stderr + r.stdout).not.toContain('do-not-print-me');
  });

  it('refuses an absolute path', async () => {
    const dir = makeModelRepo();
    await expect(containedDataPath(dir, '/etc/passwd.csv', 'data.train in ml.yaml')).rejects.toThrow(
      'data.train in ml.yaml is "/etc/passwd.csv", an absolute path; give a path inside the model repository, relative to ml.yaml',
    );
    await expect(containedDataPath(dir, '/etc/passwd.csv', 'x')).rejects.toBeInstanceOf(DataPathError);
  });

  it('allows .. and symlinks that stay inside: a monorepo with a shared data folder', () => {
    const repo = mkdtempSync(join(tmpdir(), 'bramble-monorepo-'));
    const model = join(repo, 'models/churn');
    mkdirSync(join(repo, 'shared'), { recursive: true });
    mkdirSync(model, { recursive: true });
    const template = join(import.meta.dirname, '../templates/model-repo');
    cpSync(join(template, 'ml.yaml'), join(model, 'ml.yaml'));
    cpSync(join(template, 'data/churn.csv'), join(repo, 'shared/churn.csv'));
    writeFileSync(join(model, 'ml.yaml'), readFileSync(join(model, 'ml.yaml'), 'utf8').replace('train: data/churn.csv', 'train: ../../shared/churn.csv'));
    git(repo, 'init', '-q');
    const r = bramble(['validate', model]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // A link inside the repository is followed.
    mkdirSync(join(model, 'data'));
    symlinkSync('../../../shared/churn.csv', join(model, 'data/churn.csv'));
    writeFileSync(join(model, 'ml.yaml'), readFileSync(join(model, 'ml.yaml'), 'utf8').replace('train: ../../shared/churn.csv', 'train: data/churn.csv'));
    expect(bramble(['validate', model]).status).toBe(0);
  });

  it('outside git, the model folder itself is the boundary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bramble-plain-'));
    await expect(containedDataPath(dir, '../x.csv', 'data.train in ml.yaml')).rejects.toThrow('which leaves the model repository');
    expect(await containedDataPath(dir, 'data/x.csv', 'data.train in ml.yaml')).toBe(join(await import('node:fs/promises').then((f) => f.realpath(dir)), 'data/x.csv'));
  });
});
