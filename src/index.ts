export { BrambleError, describeError } from './errors.js';
export { RandomForest, TrainingDataError, ModelFormatError, FOREST_FORMAT } from './model/forest/forest.js';
export type { ForestJSON, Label, Matrix, Row, Rows, TrainOptions } from './model/forest/forest.js';
export { ForestOptionError } from './model/forest/options.js';
export type { ForestOptions, ForestParams } from './model/forest/options.js';
export { FlatForest } from './model/forest/flat.js';
export { parseCsv, CsvError } from './data/csv.js';
export { encodeTable, takeRows } from './data/encode.js';
export { splitRows } from './data/split.js';
