// What a failed file-system call says, read one way everywhere: a caller that expects a file to be absent catches
// ENOENT and nothing else, so that EACCES or EIO is never taken for "not there".

/** The code of a failed system call (ENOENT, EACCES, EIO, ECONNRESET, …), or an empty string for any other value. */
export function errnoCode(err: unknown): string {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : '';
}

/** Whether the call failed only because the path does not exist. */
export function isMissing(err: unknown): boolean {
  return errnoCode(err) === 'ENOENT';
}
