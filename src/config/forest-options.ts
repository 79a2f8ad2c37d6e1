// ml.yaml → the forest, in one typed step. Decisions: the options are built field by field from the typed config
// (no Record loop, no cast), and the forest's own rules (resolveForestParams) run on them when ml.yaml is loaded,
// so that a rule across keys — maxSamples needs bootstrap, classWeight needs classification — is reported at its
// ml.yaml line and column, as every other problem in the file is, instead of at training time without a place.
import { ForestOptionError, resolveForestParams, type ForestOptions } from '../model/forest/options.js';
import type { MlConfig } from './ml-yaml.js';
import type { Finding, Segment } from './positions.js';

/** The options the forest is built with: `task` from the top level, `seed` from model.seed, the rest from model.params. */
export function forestOptionsOf(config: Pick<MlConfig, 'task' | 'model'>): ForestOptions {
  const params = config.model.params;
  const options: ForestOptions = {
    task: config.task,
    seed: config.model.seed,
    trees: params.trees,
    maxDepth: params.maxDepth,
    minSamplesSplit: params.minSamplesSplit,
    minSamplesLeaf: params.minSamplesLeaf,
    bootstrap: params.bootstrap,
    maxSamples: params.maxSamples,
    classWeight: params.classWeight,
    maxBins: params.maxBins,
  };
  // Left out, the forest picks by task; an explicit undefined would be recorded the same, but keep the object exact.
  if (params.maxFeatures !== undefined) options.maxFeatures = params.maxFeatures;
  return options;
}

/** Where in ml.yaml each forest option is written. */
function pathOf(option: string): Segment[] {
  if (option === 'task') return ['task'];
  if (option === 'seed') return ['model', 'seed'];
  return ['model', 'params', option];
}

/**
 * The first forest rule that ml.yaml's model settings break, as a problem at the option's place; undefined when the
 * forest accepts them. The schema has already checked each value alone, so what is left are the rules across keys.
 */
export function forestParamsFinding(config: Pick<MlConfig, 'task' | 'model'>): Finding | undefined {
  try {
    resolveForestParams(forestOptionsOf(config));
    return undefined;
  } catch (err) {
    if (!(err instanceof ForestOptionError)) throw err;
    const option = typeof err.data.option === 'string' ? err.data.option : '';
    // "forest option maxSamples is 0.5; allowed: …" → "is 0.5; allowed: …" after the path ml.yaml names.
    const message = err.message.replace(/^forest option \S+ /, '');
    return { path: pathOf(option), at: 'value', message };
  }
}
