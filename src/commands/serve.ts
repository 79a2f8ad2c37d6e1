// bramble serve: every environment's current model over HTTP, until SIGTERM or SIGINT.
import { readServeConfig } from '../serve/config.js';
import { runServe } from '../serve/cluster.js';
import { UsageError } from '../usecases/options.js';
import { defineCommand } from './command.js';

export const HELP = `bramble serve — serve each environment's current model over HTTP

Usage: bramble serve --config FILE

FILE is serve.json (schemas/serve.schema.json; runner-pi/serve.json is an example): where to listen, the model
folder (MODELS/<env>/current.json), the prediction log, and each environment's path prefix or port.
Endpoints, under each environment's prefix: POST /invocations (MLflow: dataframe_split, dataframe_records,
instances, inputs, or text/csv), GET /ping /health /version, Open Inference v2 (/v2/health/live|ready,
/v2/models/NAME[/ready], POST /v2/models/NAME/infer), POST /feedback. At the root: GET /metrics (Prometheus),
/ping, /version, and POST /admin/deploy/ENV (what bramble deploy calls).
With serve.json "features", a row may leave inputs out and carry its entity's key ({"customerID": "…"}): they are
filled from the online store that bramble materialize writes (docs/feature-store-online.md).
`;

export const command = defineCommand({
  name: 'serve',
  help: HELP,
  options: { config: { type: 'string' } },
  async run({ values }, io) {
    if (!values.config) throw new UsageError('bramble serve needs --config FILE (serve.json); see bramble serve --help');
    const config = await readServeConfig(values.config);
    const server = await runServe(config, { env: io.env, version: io.versions.bramble, warn: (m) => io.err(`bramble serve: ${m}\n`) });
    if (server.role === 'worker') {
      // The primary speaks for the host; a worker stops when it is told to, or when its primary is gone.
      await io.stopped();
      await server.close();
      return 0;
    }
    const workers = server.role === 'primary' ? ` (${config.workers} workers)` : '';
    const where = [server.url, ...Object.entries(server.envUrls).map(([env, url]) => `${env} on ${url}`)].join(', ');
    const serving = server.host.envs.map((e) => `${e}=${server.host.model(e)?.version ?? '(none)'}`).join(' ');
    io.err(`bramble serve: listening on ${where}${workers}; ${serving}\n`);
    await io.stopped();
    await server.close();
    return 0;
  },
});
