/**
 * The names Bramble reads and writes in a model repository: ml.yaml, read by config/ and named in the messages of
 * the engine modules it configures (features/), and the folder outputs go to — the artifact lives there
 * (model/artifact.ts) and the source lineage skips it (lineage/source.ts). Named here, below all of them, so that
 * none imports another for a name.
 */
export const REPO_LAYOUT = {
  mlYaml: 'ml.yaml',
  outputFolder: '.bramble',
} as const;
