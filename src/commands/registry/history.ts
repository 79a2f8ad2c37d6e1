// bramble registry history [NAME] [--env ENV]: every registry event, oldest first, with who and when.
import { foldState } from '../../registry/state.js';
import { print } from '../command.js';
import { table } from './common.js';
import type { RegistryRead } from './read.js';

export function history({ snapshot, rest, values, io }: RegistryRead): number {
  const name = rest[0];
  const events = snapshot.events
    .filter((e) => name === undefined || e.event.name === name)
    .filter((e) => values.env === undefined || ('env' in e.event && e.event.env === values.env))
    .sort((a, b) => (a.record.at < b.record.at ? -1 : a.record.at > b.record.at ? 1 : a.record.tag < b.record.tag ? -1 : 1));
  const resolved = foldState(snapshot.events);
  const rows = events.map((e) => ({
    at: e.record.at,
    tag: e.record.tag,
    action: e.event.kind,
    name: e.event.name,
    env: 'env' in e.event ? e.event.env : null,
    version: 'version' in e.event && e.event.version ? e.event.version : (resolved.get(e.event.name)?.history.find((h) => h.tag === e.record.tag)?.version ?? null),
    by: e.record.by,
    commit: e.record.target,
  }));
  const cells = rows.map((r) => [r.at, r.action, r.name, r.env ?? '', r.version ?? '', `${r.by.name} <${r.by.email}>`, r.tag]);
  print(io, values.json, rows, rows.length === 0 ? 'no registry events' : table(['when', 'action', 'model', 'env', 'version', 'by', 'tag'], cells));
  return 0;
}
