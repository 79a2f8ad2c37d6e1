// bramble reproduce: a registered version trained again from its source commit, and the two artifacts compared.
import { join } from 'node:path';
import type { SourceLineage } from '../../lineage/source.js';
import { storeVersions } from '../../store/training-data.js';
import { runPipeline } from '../../pipeline/run.js';
import { Registry } from '../../registry/registry.js';
import { reproduce } from '../../registry/reproduce.js';
import { workersOption } from '../../usecases/options.js';
import { print } from '../command.js';
import { COMMON_HELP, openRegistry, registryCommand, RegistryUsageError, short, splitRef, table } from './common.js';

export const HELP = `bramble reproduce — train a registered version again from its source commit and compare the artifacts

Usage: bramble reproduce NAME@vX.Y.Z [--workers N] [options]

Says "identical" when the new artifact has the registered sha256, and otherwise lists exactly what differs.
Exit codes: 0 identical, 1 different.
${COMMON_HELP}`;

export const command = registryCommand({
  name: 'reproduce',
  help: HELP,
  accepts: ['workers', 'fetch'],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new RegistryUsageError('bramble reproduce takes one NAME@vX.Y.Z');
    const { name, version } = splitRef(positionals[0], 'reproduce');
    const workers = workersOption(values.workers, '--workers');
    const registry = await openRegistry(values, io);
    const { snapshot, models } = await registry.read({ fetch: values.fetch });
    const v = Registry.version(models, name, version);
    const { artifact } = await registry.artifact(snapshot.head, v);
    const now = (): number => performance.now();
    // A training set from a feature store is rebuilt from the features repository beside the model folder of this
    // checkout (not the extracted copy), at exactly the manifest versions the artifact records.
    const store = storeVersions(artifact);
    const train = async (dir: string, source: SourceLineage): Promise<string | null> =>
      (await runPipeline(dir, { workers, versions: io.versions, now, source, env: io.env, ...(store ? { store: { ...store, base: join(registry.repo.dir, source.path) } } : {}) })).artifact?.path ?? null;
    const result = await reproduce(registry.repo, artifact, { train, now });
    const rows = result.differences.map((d) => [d.path, d.registered, d.reproduced]);
    const text = result.identical
      ? `identical: ${name}@${v.version} retrained from ${short(v.commit)} gives the registered artifact, sha256 ${result.registered} (${result.seconds.toFixed(1)} s)`
      : [
          `different: ${name}@${v.version} retrained from ${short(v.commit)} gives sha256 ${result.reproduced}, not the registered ${result.registered}`,
          table(['field', 'registered', 'reproduced'], rows),
          ...(result.more > 0 ? [`and ${result.more} more`] : []),
        ].join('\n');
    print(io, values.json, { name, version: v.version, ...result }, text);
    return result.identical ? 0 : 1;
  },
});
