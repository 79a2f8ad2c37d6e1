/** Many rows at once, row-major; NaN marks a missing value. */
export interface Matrix {
  rows: number;
  columns: number;
  values: Float64Array;
}
