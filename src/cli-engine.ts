// Everything the CLI calls, in one module that cli.ts loads on first use: `bramble registry ls` or `--version`
// should not pay for loading the forest, the data loaders, arquero and ajv it never touches.
export { trainForestFromCsv } from './usecases/train-forest.js';
export { writeFileAtomic } from './fs/atomic.js';
export { compareArtifacts, evaluateModel, runPipeline } from './pipeline/run.js';
export { formatValidation } from './data/validate.js';
export { formatVerdict } from './model/compare.js';
export { metricsOf } from './model/evaluate.js';
export { validateRepo } from './usecases/validate.js';
export { predictFile } from './usecases/predict.js';
export { formatDrift } from './data/drift.js';
export { deployVersion } from './usecases/deploy.js';
export { readServeConfig } from './serve/config.js';
export { startServer } from './serve/server.js';
export { readMlYaml } from './config/ml-yaml.js';
