// How a request to a host that does not answer fails: fetch rejects with a TypeError ("fetch failed", the cause
// saying ECONNREFUSED, ENOTFOUND, …) or, past its signal's timeout, a DOMException. Anything else is not the host.

export function isUnanswered(err: unknown): err is Error {
  return err instanceof TypeError || (err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError'));
}

/** The system error code behind a fetch that got no answer (ECONNREFUSED), or undefined. */
export function unansweredCode(err: Error): string | undefined {
  const cause: unknown = err.cause;
  return typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
}

/** A response body read as JSON, or `fallback` when it is not JSON (a proxy's HTML error page). */
export async function jsonOr<T>(response: Response, fallback: T): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    if (err instanceof SyntaxError) return fallback;
    throw err;
  }
}
