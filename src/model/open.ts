// One way to open a model: read it, verify its hash, check it against schemas/model.schema.json and load its
// features and forest. predict, evaluate/compare, the server and the host's sync all come through here, so a file
// that one of them refuses, every one of them refuses — predict used to skip the schema check the server applied.
import { readFile } from 'node:fs/promises';
import { FittedFeatures } from '../features/transforms.js';
import { ArtifactError, openArtifact } from './artifact.js';
import { validateArtifact } from './artifact-schema.js';
import { RandomForest } from './forest/forest.js';

export interface OpenedModel {
  /** How the model is named in messages: its file, or `name@vX.Y.Z`. */
  label: string;
  /** The artifact, verified (hash) and checked (schema). */
  artifact: Record<string, unknown> & { sha256: string };
  features: FittedFeatures;
  forest: RandomForest;
  /** The text's size, for the server's status. */
  bytes: number;
}

/** Opens an artifact's text: hash, schema, then features and forest. `label` names it in every error. */
export function openModel(text: string, label: string, options: { expectSha256?: string } = {}): OpenedModel {
  const artifact = openArtifact(text, label);
  validateArtifact(artifact, label);
  if (options.expectSha256 !== undefined && artifact.sha256 !== options.expectSha256) {
    throw new ArtifactError(`${label} has sha256 ${artifact.sha256}, not the ${options.expectSha256} it was deployed as; restore it from the registry`, { file: label });
  }
  return { label, artifact, features: FittedFeatures.fromJSON(artifact.features), forest: RandomForest.fromJSON(artifact.estimator), bytes: Buffer.byteLength(text) };
}

/** Reads and opens a model file; a missing file or a folder is the user's to fix, with the path named. */
export async function readModelFile(file: string): Promise<OpenedModel> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ArtifactError(`the model ${file} does not exist; give the path of a model.json (bramble run writes one to .bramble/model.json)`, { file });
    if (code === 'EISDIR') throw new ArtifactError(`the model ${file} is a folder; give the path of a model.json`, { file });
    if (code === 'EACCES' || code === 'EPERM') throw new ArtifactError(`the model ${file} cannot be read (permission denied); let the user running bramble read it`, { file });
    throw err;
  });
  return openModel(text, file);
}
