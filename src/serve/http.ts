// What the server's parts share about HTTP: the request as the routes see it (so that a request can come from a
// socket or be injected in a test), the reply they return instead of writing to a socket, and the one place a
// thrown value becomes a status and a body (its status from the error catalog, through httpStatusOf).
import type { IncomingHttpHeaders } from 'node:http';
import { describeError, errorFamily, httpStatusOf } from '../errors.js';

export const SERVE = {
  /** Request ids a client may choose: short and plain, so they are safe in logs and headers. */
  requestId: /^[A-Za-z0-9._:-]{1,64}$/,
  mlflowTypes: ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const,
  /** The longest label /feedback records: ground truth is one label or number, not a document. */
  feedbackTruthChars: 256,
} as const;

/** A request as the routes read it: node's IncomingMessage fits, and so does an injected one. */
export interface ServeRequest {
  method: string;
  /** The path and the query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The peer's address: admin calls without a token are taken from this machine only. */
  remoteAddress: string;
  /** The body's chunks, read only by the routes that take a body (and only up to limits.bodyBytes). */
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/** An answer, written to the socket (or handed to the test) by whoever asked. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A client's mistake the server answers with its own status; `headers` go with the answer (Allow, WWW-Authenticate). */
export class HttpError extends errorFamily([
  'E_HTTP_BAD_PATH',
  'E_HTTP_UNAUTHORIZED',
  'E_HTTP_NOT_FOUND',
  'E_HTTP_METHOD',
  'E_HTTP_CONFLICT',
  'E_HTTP_TOO_LARGE',
  'E_HTTP_MEDIA_TYPE',
  'E_HTTP_UNAVAILABLE',
]) {
  constructor(
    code: HttpError['code'],
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }
}

export type Protocol = 'mlflow' | 'v2' | 'plain';

/** A reply with a JSON body, or text when `body` is a string. */
export function reply(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): Reply {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    status,
    headers: { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers },
    body: text,
  };
}

function errorBody(protocol: Protocol, status: number, message: string): unknown {
  if (protocol === 'mlflow') return { error_code: status === 413 ? 'REQUEST_LIMIT_EXCEEDED' : status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST', message };
  return { error: message };
}

/**
 * The answer to a request that failed: the error's status and message when it is the client's to fix (or an
 * HttpError the server chose, such as 503 for no model), else 500 "internal error" with the request id, and the
 * message only in the server's log.
 */
export function errorReply(err: unknown, id: string, warn: (message: string) => void, protocol: Protocol, headers: Readonly<Record<string, string>> = {}): Reply {
  const status = httpStatusOf(err);
  if (err instanceof HttpError) return reply(status, errorBody(protocol, status, err.message), { ...headers, ...err.headers });
  if (status < 500) return reply(status, errorBody(protocol, status, describeError(err)), headers);
  warn(`request ${id}: ${describeError(err)}`);
  return reply(500, errorBody(protocol, 500, `internal error (request ${id})`), headers);
}

/** A path segment, percent-decoded; a malformed escape (`%E0%A4%A`) is the client's mistake, a 400. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (err) {
    if (err instanceof URIError) throw new HttpError('E_HTTP_BAD_PATH', `the path has a malformed percent-escape in ${JSON.stringify(segment.slice(0, 40))}; encode it with encodeURIComponent`);
    throw err;
  }
}
