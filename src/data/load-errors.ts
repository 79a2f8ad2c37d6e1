import { BrambleError } from '../errors.js';

export class DataFileError extends BrambleError {
  constructor(message: string, file: string) {
    super('E_DATA_FILE', message, { file });
  }
}

export class DataFormatError extends BrambleError {
  constructor(message: string, file: string) {
    super('E_DATA_FORMAT', message, { file });
  }
}

/** A value that is not of its column's type (text in a number column, 1.5 in an integer column). */
export class DataTypeError extends BrambleError {
  constructor(message: string, data: Record<string, unknown>) {
    super('E_DATA_TYPE', message, data);
  }
}

/** A missing value in a column the schema does not declare nullable. */
export class MissingValueError extends BrambleError {
  constructor(message: string, data: Record<string, unknown>) {
    super('E_DATA_MISSING', message, data);
  }
}

/** A JSON data file that does not parse or is not an array of records. */
export class JsonDataError extends BrambleError {
  constructor(message: string, data: Record<string, unknown>) {
    super('E_DATA_JSON', message, data);
  }
}
