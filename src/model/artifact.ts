import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { errorClass } from '../errors.js';
import { REPO_LAYOUT } from '../repo-layout.js';

/** The model artifact's names, as the registry, the server and the actions read them. */
export const ARTIFACT = { format: 'bramble-model', version: 1, file: 'model.json', folder: REPO_LAYOUT.outputFolder } as const;

export class ArtifactError extends errorClass('E_ARTIFACT') {}

/**
 * A JSON string made piece by piece when it is hashed or written, never whole: the base64 of a forest's arrays,
 * ~275 MB for 100 fully grown trees on 750,000 rows, which as one string was that much more peak memory. Its
 * pieces must need no JSON escaping; `toJSON` gives the whole string for the rare reader that wants one.
 */
export class StreamedText {
  constructor(private readonly pieces: (take: (piece: string) => void) => void) {}

  emit(take: (piece: string) => void): void {
    this.pieces(take);
  }

  toJSON(): string {
    const parts: string[] = [];
    this.pieces((piece) => parts.push(piece));
    return parts.join('');
  }
}

/**
 * JSON with every object's keys sorted, no spaces: the same content always gives the same bytes, so its sha256
 * can be the artifact's identity.
 */
export function canonicalJSON(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (value instanceof StreamedText) return value.toJSON();
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    // No prototype: a key named __proto__ (which JSON.parse makes an own key) is then an own key here too, and
    // counts in the hash, instead of silently setting the prototype and dropping out of the hashed text.
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/**
 * The canonical JSON of `value` (the very text canonicalJSON gives) in pieces, handed to `emit` in order, so that
 * a large artifact can be hashed or written without its whole text in memory: a forest of 100 fully grown trees
 * on 750,000 rows is ~275 MB of text, and each copy of it held at once was ~275 MB of peak memory. A long string
 * that JSON would not escape is handed over as it is, between its quotes, not copied.
 */
export function emitCanonicalJSON(value: unknown, emit: (piece: string) => void): void {
  if (value instanceof StreamedText) {
    emit('"');
    value.emit(emit);
    emit('"');
    return;
  }
  if (value !== null && typeof value === 'object') {
    // An own toJSON function would be called by JSON.stringify: leave such a value to it.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      emit(canonicalJSON(value));
      return;
    }
    if (Array.isArray(value)) {
      emit('[');
      for (let i = 0; i < value.length; i++) {
        if (i > 0) emit(',');
        const v: unknown = value[i];
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') emit('null');
        else emitCanonicalJSON(v, emit);
      }
      emit(']');
      return;
    }
    emit('{');
    let first = true;
    for (const key of canonicalKeys(value)) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      emit(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
      first = false;
      emitCanonicalJSON(v, emit);
    }
    emit('}');
    return;
  }
  if (typeof value === 'string' && value.length > LONG_STRING && !NEEDS_ESCAPE.test(value)) {
    emit('"');
    emit(value);
    emit('"');
    return;
  }
  emit(JSON.stringify(value));
}

/**
 * Keys in the order JSON.stringify gives them for sortKeys' object: JavaScript lists array-index keys ("0", "7",
 * "10") first, in numeric order, then the others in the order they were added, which is sorted.
 */
function canonicalKeys(value: object): string[] {
  const keys = Object.keys(value).sort();
  const indices = keys.filter(isArrayIndex);
  if (indices.length === 0) return keys;
  indices.sort((a, b) => Number(a) - Number(b));
  return indices.concat(keys.filter((k) => !isArrayIndex(k)));
}

function isArrayIndex(key: string): boolean {
  const n = Number(key);
  return n >>> 0 === n && n !== 4294967295 && String(n) === key;
}

const LONG_STRING = 4096;
/** What JSON.stringify escapes (quote, backslash, controls) or may (any surrogate): such strings go through it. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** Strings are hashed and written in slices of this many characters: a whole one would be encoded at once. */
const SLICE = 1 << 20;

/** A piece in slices of at most SLICE characters, never splitting a surrogate pair (UTF-8 needs both halves). */
function sliced(piece: string, take: (slice: string) => void): void {
  if (piece.length <= SLICE) {
    take(piece);
    return;
  }
  for (let at = 0; at < piece.length; ) {
    let end = Math.min(at + SLICE, piece.length);
    const last = piece.charCodeAt(end - 1);
    if (end < piece.length && last >= 0xd800 && last <= 0xdbff) end--;
    take(piece.slice(at, end));
    at = end;
  }
}

/** sha256 (hex) of the canonical JSON of `value`, without its text in memory. */
export function canonicalSha256(value: unknown): string {
  const hash = createHash('sha256');
  emitCanonicalJSON(value, (piece) => sliced(piece, (slice) => hash.update(slice)));
  return hash.digest('hex');
}

/** Adds the artifact's identity: the sha256 of the canonical JSON of everything else. */
export function sealArtifact<T extends Record<string, unknown>>(body: T): { artifact: T & { sha256: string }; text: string } {
  const artifact = sealBody(body);
  return { artifact, text: canonicalJSON(artifact) + '\n' };
}

/** The artifact sealed (its sha256 added), with no text made: write it with writeArtifact. */
export function sealBody<T extends Record<string, unknown>>(body: T): T & { sha256: string } {
  return { ...body, sha256: canonicalSha256(body) };
}

/**
 * Writes a sealed artifact's text (exactly sealArtifact's `text`) to `path` whole or not at all (a temporary file
 * beside it, then a rename), in 4 MB blocks as it is made: the text is never held in memory. The writes are
 * synchronous because the pieces come from a synchronous walk; a block takes milliseconds. Returns the bytes.
 */
export async function writeArtifact(path: string, artifact: Record<string, unknown>): Promise<number> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'w');
  let bytes = 0;
  try {
    const buffer = Buffer.allocUnsafe(4 << 20);
    let used = 0;
    const flush = (): void => {
      let at = 0;
      while (at < used) at += writeSync(fd, buffer, at, used - at);
      bytes += used;
      used = 0;
    };
    const take = (slice: string): void => {
      // A slice is at most SLICE characters, so at most 3 MB of UTF-8: it always fits an emptied buffer.
      if (used + slice.length * 3 > buffer.length) flush();
      used += buffer.write(slice, used);
    };
    emitCanonicalJSON(artifact, (piece) => sliced(piece, take));
    take('\n');
    flush();
    closeSync(fd);
    await rename(temporary, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch (closeErr) {
      // Closed already (the error came after closeSync): nothing else may be hidden here.
      if (!(closeErr instanceof Error && 'code' in closeErr && closeErr.code === 'EBADF')) throw closeErr;
    }
    await rm(temporary, { force: true });
    throw err;
  }
  return bytes;
}

/** Reads an artifact, refusing another format, a newer version and content that does not match its sha256. */
export function openArtifact(text: string, file: string): Record<string, unknown> & { sha256: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text, newlines and all: one line, with a short, escaped start of the file instead.
    const start = text.trimStart().slice(0, 24);
    throw new ArtifactError(`${file} is not JSON (it starts with ${JSON.stringify(start)}); is it a Bramble model?`, { file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ArtifactError(`${file} is not a Bramble model`, { file });
  const odd = reservedKey(parsed);
  if (odd !== null) {
    throw new ArtifactError(`${file} has a key named ${odd.key} at ${odd.path}, which no Bramble model has; the file was tampered with — restore it from the registry`, { file, path: odd.path });
  }
  const a = parsed as Record<string, unknown>;
  if (a.format !== ARTIFACT.format) {
    throw new ArtifactError(`${file} has format ${JSON.stringify(a.format)}, not "${ARTIFACT.format}"; give a model written by bramble train or run`, { file });
  }
  if (typeof a.version !== 'number' || a.version > ARTIFACT.version) {
    throw new ArtifactError(`${file} has format version ${String(a.version)}, newer than this Bramble reads (${ARTIFACT.version}); upgrade Bramble`, { file });
  }
  const { sha256, ...body } = a;
  if (typeof sha256 !== 'string') {
    throw new ArtifactError(`${file} has no sha256; it was not written by bramble run, or was edited — restore it from the registry`, { file });
  }
  const actual = createHash('sha256').update(canonicalJSON(body)).digest('hex');
  if (sha256 !== actual) {
    throw new ArtifactError(`${file} does not match its sha256 (recorded ${String(sha256).slice(0, 12)}…, content ${actual.slice(0, 12)}…): the file was changed or damaged; restore it from the registry`, { file });
  }
  return a as Record<string, unknown> & { sha256: string };
}

/**
 * The first `__proto__` key in a model file, or null: no Bramble model has one, and a reader that assigns keys into
 * plain objects would take it as a prototype.
 */
function reservedKey(value: unknown, path = '/'): { key: string; path: string } | null {
  if (Array.isArray(value)) {
    // Arrays of numbers (the trees) are most of a model: skip them without a call per element.
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (v !== null && typeof v === 'object') {
        const found = reservedKey(v, `${path}${i}/`);
        if (found) return found;
      }
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (key === '__proto__') return { key: JSON.stringify(key), path: `${path}${key}` };
      const v = (value as Record<string, unknown>)[key];
      if (v !== null && typeof v === 'object') {
        const found = reservedKey(v, `${path}${key}/`);
        if (found) return found;
      }
    }
  }
  return null;
}
