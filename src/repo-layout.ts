/**
 * The folder Bramble writes its outputs into, inside a model repository: the artifact lives there (model/artifact.ts)
 * and the source lineage skips it (lineage/source.ts). Named here, below both, so that neither imports the other.
 */
export const OUTPUT_FOLDER = '.bramble';
