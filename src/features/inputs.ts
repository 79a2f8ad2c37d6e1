// Input values: the one door through which both table cells and record fields come into the features, so that a
// value reads the same when training and when serving.
import { MISSING_TEXT } from '../data/load-options.js';
import { parseInstant } from '../data/table.js';
import type { Value } from './expression.js';
import { toNumber } from './expression-ops.js';
import type { SlotKind } from './transforms.js';

export const MISSING = new Set(MISSING_TEXT);

export function isMissingText(s: string): boolean {
  return MISSING.has(s) || s.trim() === '';
}

/** What a date input accepts, for messages. */
export const DATE_INPUT = 'ISO 8601 text such as 2024-03-01 or 2024-03-01T12:30:00Z (UTC unless it gives an offset), or milliseconds since 1970 UTC';

/**
 * One input value as its slot stores it, or undefined when it cannot be read as that kind. Text uses the loader's
 * missing markers, so that "NA" in a served record means what it means in a CSV.
 */
export function readInput(kind: SlotKind, raw: unknown, markers?: ReadonlySet<string>): number | string | null | undefined {
  if (typeof raw === 'string' && markers !== undefined && markers.has(raw)) return kind === 'text' ? null : NaN;
  if (kind === 'number') {
    if (typeof raw === 'number') return raw;
    if (raw === null || raw === undefined) return NaN;
    if (typeof raw === 'boolean') return raw ? 1 : 0;
    if (typeof raw === 'string') {
      if (isMissingText(raw)) return NaN;
      const n = Number(raw.trim());
      return Number.isNaN(n) ? undefined : n;
    }
    return undefined;
  }
  if (kind === 'date') {
    // An instant beyond what a Date holds (±8.64e15 ms) is not a date; NaN is a missing one.
    if (typeof raw === 'number') return Number.isNaN(raw) || Math.abs(raw) <= 864e13 ? raw : undefined;
    if (raw === null || raw === undefined) return NaN;
    if (typeof raw === 'string') {
      if (isMissingText(raw)) return NaN;
      // The loader's parser: a served date reads exactly as the same text in a training file.
      const t = parseInstant(raw);
      return Number.isNaN(t) ? undefined : t;
    }
    return undefined;
  }
  if (typeof raw === 'string') return isMissingText(raw) ? null : raw;
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'number') return Number.isNaN(raw) ? null : String(raw);
  if (typeof raw === 'boolean') return String(raw);
  return undefined;
}

/** A served record's date field as an instant, or undefined when it is not one (null and "" are missing: NaN). */
export function readDateInput(raw: unknown): number | undefined {
  const v = readInput('date', raw);
  return typeof v === 'number' ? v : undefined;
}

/** A derived value in a number slot: text (which a numeric derive should not give) reads as missing. */
export function derivedNumber(v: Value): number {
  return typeof v === 'string' ? NaN : toNumber(v);
}

export function derivedText(v: Value): string | null {
  if (v === null || (typeof v === 'number' && Number.isNaN(v))) return null;
  return typeof v === 'string' ? v : String(v);
}

export function inputProblem(kind: SlotKind, raw: unknown): string {
  const shown = typeof raw === 'string' ? JSON.stringify(raw) : typeof raw === 'object' ? 'an object' : String(raw);
  const fix = kind === 'number' ? 'give a number, or null when missing' : kind === 'date' ? `give ${DATE_INPUT}, or null when missing` : 'give text, or null when missing';
  return `is ${shown}; ${fix}`;
}
