// Failures that used to be swallowed whole (an empty catch handler) now catch only what they expect: a tag that cannot be
// taken back is said, a damaged meta file refuses the model instead of skipping its expected-hash check, and a
// registry cache that cannot be read (EACCES, not just absent) is said and read past.
import * as nodeFs from 'node:fs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry } from '../src/registry/registry.js';
import { withdrawTags } from '../src/registry/transaction.js';
import { HOST_FILES, ModelHost, writeCandidate } from '../src/serve/host.js';
import { makeModelRepo, train } from './helpers/model-repo.js';

function fsError(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

describe('a tag that cannot be taken back', () => {
  it('is said, with the git command that removes it, on the remote and here', async () => {
    const warnings: string[] = [];
    await withdrawTags(
      ['churn@v1.2.0'],
      {
        remote: 'origin',
        deleteRemote: () => Promise.reject(fsError('ECONNRESET')),
        deleteLocal: () => Promise.reject(fsError('EACCES')),
      },
      (m) => warnings.push(m),
    );
    expect(warnings).toEqual([
      expect.stringContaining('the tag churn@v1.2.0 could not be taken back from origin (ECONNRESET: simulated)'),
      expect.stringContaining('the tag churn@v1.2.0 could not be taken back here (EACCES: simulated)'),
    ]);
    expect(warnings[0]).toContain('git push --delete origin churn@v1.2.0');
    expect(warnings[1]).toContain('git tag -d churn@v1.2.0');
  });

  it('says nothing when every tag is taken back', async () => {
    const warnings: string[] = [];
    const removed: string[] = [];
    const remove = (ref: string): Promise<void> => {
      removed.push(ref);
      return Promise.resolve();
    };
    await withdrawTags(['a@v1.0.0', 'b@v1.0.0'], { remote: 'origin', deleteRemote: remove, deleteLocal: remove }, (m) => warnings.push(m));
    expect(warnings).toEqual([]);
    expect(removed).toEqual(['refs/tags/a@v1.0.0', 'refs/tags/a@v1.0.0', 'refs/tags/b@v1.0.0', 'refs/tags/b@v1.0.0']);
  });
});

describe('the meta file beside a served model', () => {
  it.each([
    ['not JSON', '{"version": "v1.0.0", "sha'],
    ['without a sha256', '{"name": "churn", "version": "v1.0.0"}'],
    ['with a sha256 that is not text', '{"name": "churn", "version": "v1.0.0", "sha256": 7}'],
  ])('%s refuses the candidate instead of skipping the expected-hash check', async (_, damaged) => {
    const text = await train(makeModelRepo({ trees: 3 }));
    const folder = mkdtempSync(join(tmpdir(), 'bramble-host-'));
    const sha256 = (JSON.parse(text) as { sha256: string }).sha256;
    const candidate = await writeCandidate(folder, 'prod', text, { name: 'churn', version: 'v1.0.0', sha256 });
    writeFileSync(HOST_FILES.meta(candidate), damaged);
    const host = new ModelHost(folder, ['prod']);
    await expect(host.deploy('prod')).rejects.toMatchObject({ code: 'E_SERVE_MODEL', message: expect.stringContaining('candidate.meta.json is damaged') });
    expect(host.model('prod')).toBeNull();
    expect(readFileSync(join(folder, 'prod', HOST_FILES.rejected), 'utf8')).toBe(text);
  });

  it('with the right sha256 lets the model serve; with another, refuses it', async () => {
    const text = await train(makeModelRepo({ trees: 3 }));
    const folder = mkdtempSync(join(tmpdir(), 'bramble-host-'));
    const sha256 = (JSON.parse(text) as { sha256: string }).sha256;
    const host = new ModelHost(folder, ['prod']);
    await writeCandidate(folder, 'prod', text, { name: 'churn', version: 'v1.0.0', sha256: '0'.repeat(64) });
    await expect(host.deploy('prod')).rejects.toMatchObject({ code: 'E_SERVE_MODEL' });
    await writeCandidate(folder, 'prod', text, { name: 'churn', version: 'v1.0.0', sha256 });
    await expect(host.deploy('prod')).resolves.toMatchObject({ version: 'v1.0.0', sha256 });
  });

  it('damaged beside current.json: a restarted server does not serve that model, and says why', async () => {
    const text = await train(makeModelRepo({ trees: 3 }));
    const folder = mkdtempSync(join(tmpdir(), 'bramble-host-'));
    const sha256 = (JSON.parse(text) as { sha256: string }).sha256;
    await writeCandidate(folder, 'prod', text, { name: 'churn', version: 'v1.0.0', sha256 });
    await new ModelHost(folder, ['prod']).deploy('prod');
    writeFileSync(HOST_FILES.meta(join(folder, 'prod', HOST_FILES.current)), 'garbage');
    const warnings: string[] = [];
    const restarted = new ModelHost(folder, ['prod'], (m) => warnings.push(m));
    await restarted.start();
    expect(restarted.model('prod')).toBeNull();
    expect(warnings[0]).toContain('current.meta.json is damaged');
  });
});

describe('the registry index cache', () => {
  it('unreadable (EACCES) is said and read past; absent is normal and silent', async () => {
    const repo = makeModelRepo({ trees: 3 });
    await (await Registry.open({ dir: repo, remote: null, env: {} })).register(await train(repo));

    const quiet: string[] = [];
    const fresh = await Registry.open({ dir: repo, remote: null, env: {}, warn: (m) => quiet.push(m) });
    expect((await fresh.read()).models.get('churn')?.versions).toHaveLength(1);
    expect(quiet).toEqual([]);

    const cache = `${sep}bramble${sep}index-`;
    const readFile = ((path: nodeFs.PathOrFileDescriptor, options?: Parameters<typeof nodeFs.promises.readFile>[1]) =>
      String(path).includes(cache) ? Promise.reject(fsError('EACCES')) : nodeFs.promises.readFile(path as string, options)) as typeof nodeFs.promises.readFile;
    const fs = { ...nodeFs, promises: { ...nodeFs.promises, readFile } } as typeof nodeFs;
    const warnings: string[] = [];
    const denied = await Registry.open({ dir: repo, remote: null, env: {}, fs, warn: (m) => warnings.push(m) });
    expect((await denied.read()).models.get('churn')?.versions).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/registry index cache .* could not be read \(EACCES\); reading the index from git instead$/)]);
  });
});
