import { errorClass } from '../errors.js';

/** A feature step that cannot be fitted to this data: an unknown column, a wrong kind, no values to learn from. */
export class FeatureStepError extends errorClass('E_FEATURE_STEP') {}

/** A row or table that does not fit the fitted features: a missing column, text where a number belongs. */
export class FeatureInputError extends errorClass('E_FEATURE_INPUT') {}

/** Saved features that are not in this format or version, or are damaged. */
export class FeaturesFormatError extends errorClass('E_FEATURES_FORMAT') {}
