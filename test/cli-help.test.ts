// What people read first: every command's --help, snapshotted, and the suggestion for a mistyped command.
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/index.js';
import { bramble } from './helpers/cli.js';

describe('bramble COMMAND --help', () => {
  it.each([...COMMANDS.map((c) => [c.name]), ['forest', 'train']])('bramble %s --help', (...command) => {
    const r = bramble([...command, '--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatchSnapshot();
  });

  it('lines up every description in bramble --help', () => {
    const described = COMMANDS.flatMap((c) => c.synopsis).filter((line) => / {3}\S/.test(line));
    expect(described.map((line) => [...line.slice(0, line.search(/ {3}\S/))].length + 3 + line.slice(line.search(/ {3}\S/) + 3).search(/\S/))).toEqual(described.map(() => 53));
  });

  it('lists every command of the table in bramble --help', () => {
    const help = bramble(['--help']).stdout;
    for (const c of COMMANDS) expect(help).toMatch(new RegExp(`\\b${c.name}\\b`));
  });
});

describe('an unknown command', () => {
  it.each([
    ['rnu', 'bramble: unknown command "rnu"; did you mean run? run bramble --help for the list\n'],
    ['regsiter', 'bramble: unknown command "regsiter"; did you mean register? run bramble --help for the list\n'],
    ['frobnicate', 'bramble: unknown command "frobnicate"; run bramble --help for the list\n'],
  ])('%s is refused with exit 2, and the nearest command suggested', (name, message) => {
    const r = bramble([name]);
    expect(r.stderr).toBe(message);
    expect(r.status).toBe(2);
  });
});
