import { errorClass } from '../errors.js';

/** A data file that is missing or cannot be read. */
export class DataFileError extends errorClass('E_DATA_FILE') {
  constructor(message: string, file: string) {
    super(message, { file });
  }
}

/** A data file in no format Bramble reads, or not what its extension says. */
export class DataFormatError extends errorClass('E_DATA_FORMAT') {
  constructor(message: string, file: string) {
    super(message, { file });
  }
}

/** A value that is not of its column's type (text in a number column, 1.5 in an integer column). */
export class DataTypeError extends errorClass('E_DATA_TYPE') {}

/** A missing value in a column the schema does not declare nullable. */
export class MissingValueError extends errorClass('E_DATA_MISSING') {}

/** A JSON data file that does not parse or is not an array of records. */
export class JsonDataError extends errorClass('E_DATA_JSON') {}
