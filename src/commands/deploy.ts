// bramble deploy: a registered version put into service on this host, without downtime.
import { existsSync } from 'node:fs';
import { deploy, type DeployOutcome } from '../usecases/deploy.js';
import { UsageError } from '../usecases/options.js';
import { cliPorts, defineCommand, print } from './command.js';

export const HELP = `bramble deploy — put a registered version into service on this host, without downtime

Usage: bramble deploy NAME@vX.Y.Z --env ENV [--config FILE] [--server URL] [--dir DIR] [--remote NAME | --no-remote]

Fetches the version's artifact from the registry (checked against its tag), writes it to MODELS/ENV/candidate.json
and asks the server to take it: the server checks its hash and runs its self-test before it swaps; on any failure
the old model keeps serving and this command exits 1 with the reason. With no server running, the checks run here
and the server serves the model when it starts.

Options:
  --config FILE   serve.json (default /etc/bramble/serve.json): the model folder, the address, the admin token
  --server URL    the server's base URL (default: from the config's listen)
  --dir DIR       the model's folder, holding ml.yaml, in the repository with the registry (default: .)
`;

export const command = defineCommand({
  name: 'deploy',
  help: HELP,
  options: {
    env: { type: 'string' },
    config: { type: 'string' },
    server: { type: 'string' },
    dir: { type: 'string' },
    remote: { type: 'string' },
    'no-remote': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: { max: Infinity, what: 'NAME@vX.Y.Z' },
  async run({ values, positionals }, io) {
    const ref = positionals[0];
    const at = ref?.lastIndexOf('@') ?? -1;
    if (positionals.length !== 1 || !ref || at <= 0) throw new UsageError('bramble deploy takes one NAME@vX.Y.Z; see bramble deploy --help');
    if (!values.env) throw new UsageError('bramble deploy needs --env ENV; see bramble deploy --help');
    if (values.server !== undefined && !/^https?:$/.test(URL.parse(values.server)?.protocol ?? '')) {
      throw new UsageError(`--server is ${JSON.stringify(values.server)}; give the server's base URL, such as http://127.0.0.1:8080`);
    }
    const config = values.config ?? '/etc/bramble/serve.json';
    if (!values.config && !existsSync(config)) throw new UsageError(`bramble deploy needs --config FILE (serve.json): ${config} does not exist`);
    const request = { dir: values.dir ?? '.', name: ref.slice(0, at), version: ref.slice(at + 1), env: values.env, config, server: values.server };
    const remote = values['no-remote'] ? null : values.remote;
    const { outcome } = await deploy(request, cliPorts(io, { remote, warnings: 'labelled' }));
    print(io, values.json, outcome, deployedLine(outcome));
    return 0;
  },
});

function deployedLine(result: DeployOutcome): string {
  const sha = result.sha256.slice(0, 12);
  if (result.via === 'git') {
    return `${result.env} serves ${result.name}@${result.version} (sha256 ${sha}), as the tags say; the host synced from git in ${result.seconds.toFixed(2)} s`;
  }
  if (result.via === 'server') {
    return `deployed ${result.name}@${result.version} to ${result.env} (sha256 ${sha}; it served ${result.previous?.version ?? 'nothing'}) in ${result.seconds.toFixed(2)} s`;
  }
  return `installed ${result.name}@${result.version} for ${result.env} (self-test passed); no server answered, so it serves it when it starts`;
}
