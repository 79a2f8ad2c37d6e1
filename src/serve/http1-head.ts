// The request head of Bramble's HTTP/1.1 server (http1.ts): the request line and headers read and checked, with the
// refusals that close the connection. See http1.ts's Decisions for what is refused and why.
import type { IncomingHttpHeaders } from 'node:http';

export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;
/** A header value as received: no control characters but tab (obs-text, 0x80–0xFF, is allowed, as by node:http). */
export const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^\d{1,15}$/;
/** What node:http keeps the first of when a request repeats it. */
const FIRST_ONLY = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent',
]);

/** A request the connection cannot read, answered with `status` and `message` and then closed. */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Head {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Content-Length, or -1 for chunked. */
  length: number;
  keepAlive: boolean;
  /** HTTP/1.0 with `Connection: keep-alive`: the answer says so. */
  http10KeepAlive: boolean;
  expectContinue: boolean;
}

/** The request line and headers (latin1 text, without the final CRLF CRLF), checked. */
export function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const first = lines[0];
  const sp1 = first.indexOf(' ');
  const sp2 = first.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || first.indexOf(' ', sp2 + 1) !== -1) throw new Refusal(400, `the request line ${quote(first)} is not METHOD TARGET HTTP/1.1`);
  const method = first.slice(0, sp1);
  const url = first.slice(sp1 + 1, sp2);
  const version = first.slice(sp2 + 1);
  if (!TOKEN.test(method)) throw new Refusal(400, `the method ${quote(method)} is not a token`);
  if (!TARGET.test(url)) throw new Refusal(400, `the request target ${quote(url)} has characters a URL cannot have; percent-encode them`);
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') {
    if (/^HTTP\/\d\.\d$/.test(version)) throw new Refusal(505, `${version} is not served here; speak HTTP/1.1`);
    throw new Refusal(400, `the request line ${quote(first)} does not end in HTTP/1.1`);
  }
  const headers: IncomingHttpHeaders = {};
  let contentLength: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) {
      const folded = line.length > 0 && (line[0] === ' ' || line[0] === '\t');
      throw new Refusal(400, folded ? `header line ${i} is folded onto the line before it; send each header on one line` : `header line ${i} ${quote(line)} is not NAME: VALUE`);
    }
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) throw new Refusal(400, `header line ${i}: ${quote(line.slice(0, colon))} is not a header name`);
    const value = trimValue(line, colon + 1);
    if (BAD_VALUE.test(value)) throw new Refusal(400, `header ${name} has a control character in its value`);
    if (name === 'content-length') {
      if (contentLength !== undefined && contentLength !== value) throw new Refusal(400, 'the request has two different Content-Length headers');
      contentLength = value;
    } else if (name === 'host' && headers.host !== undefined) throw new Refusal(400, 'the request has two Host headers');
    addHeader(headers, name, value);
  }
  return finishHead(method, url, version === 'HTTP/1.0', headers, contentLength);
}

function finishHead(method: string, url: string, http10: boolean, headers: IncomingHttpHeaders, contentLength: string | undefined): Head {
  if (!http10 && headers.host === undefined) throw new Refusal(400, 'an HTTP/1.1 request needs a Host header');
  const te = headers['transfer-encoding'];
  let length = 0;
  if (te !== undefined) {
    if (contentLength !== undefined) throw new Refusal(400, 'the request has both Transfer-Encoding and Content-Length; send one');
    if (te.toLowerCase() !== 'chunked') throw new Refusal(501, `Transfer-Encoding ${quote(te)} is not supported; send the body with Content-Length, or chunked alone`);
    length = -1;
  } else if (contentLength !== undefined) {
    if (!DIGITS.test(contentLength)) throw new Refusal(400, `Content-Length ${quote(contentLength)} is not a number of bytes`);
    length = Number(contentLength);
  }
  const connection = headers.connection?.toLowerCase();
  const close = connection !== undefined && hasToken(connection, 'close');
  const http10KeepAlive = http10 && !close && connection !== undefined && hasToken(connection, 'keep-alive');
  const expect = headers.expect?.toLowerCase();
  if (expect !== undefined && expect !== '100-continue') throw new Refusal(417, `Expect: ${quote(headers.expect as string)} cannot be met; send no Expect header`);
  // An HTTP/1.0 client cannot read a 100 Continue: its expectation is ignored (RFC 9110 10.1.1).
  return { method, url, headers, length, keepAlive: http10 ? http10KeepAlive : !close, http10KeepAlive, expectContinue: expect === '100-continue' && !http10 };
}

function hasToken(list: string, token: string): boolean {
  if (list === token) return true;
  for (const part of list.split(',')) if (part.trim() === token) return true;
  return false;
}

/** The value after the colon, without the spaces and tabs around it (only those: RFC 9110's OWS). */
function trimValue(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
  while (end > start && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
  return line.slice(start, end);
}

function addHeader(headers: IncomingHttpHeaders, name: string, value: string): void {
  const before = headers[name];
  if (before === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
  else if (name === 'set-cookie') (before as string[]).push(value);
  else if (!FIRST_ONLY.has(name)) headers[name] = `${before as string}${name === 'cookie' ? '; ' : ', '}${value}`;
}

/** Whether an LF in `buf` has no CR before it (a complete head's are refused by parseHead, as part of a line). */
export function hasBareLf(buf: Buffer): boolean {
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) if (i === 0 || buf[i - 1] !== 13) return true;
  return false;
}

export function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}
