import { createHash } from 'node:crypto';
import { BrambleError } from '../errors.js';

/** The model artifact's names, as the registry, the server and the actions read them. */
export const ARTIFACT = { format: 'bramble-model', version: 1, file: 'model.json', folder: '.bramble' } as const;

export class ArtifactError extends BrambleError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('E_ARTIFACT', message, data);
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

/** Adds the artifact's identity: the sha256 of the canonical JSON of everything else. */
export function sealArtifact<T extends Record<string, unknown>>(body: T): { artifact: T & { sha256: string }; text: string } {
  const sha256 = createHash('sha256').update(canonicalJSON(body)).digest('hex');
  const artifact = { ...body, sha256 };
  return { artifact, text: canonicalJSON(artifact) + '\n' };
}

/** Reads an artifact, refusing another format, a newer version and content that does not match its sha256. */
export function openArtifact(text: string, file: string): Record<string, unknown> & { sha256: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ArtifactError(`${file} is not JSON (${err instanceof Error ? err.message : String(err)}); is it a Bramble model?`, { file });
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
