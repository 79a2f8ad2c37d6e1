// What the `bramble registry` subcommands are given: the registry, what it read, the arguments after the subcommand.
import type { Registry } from '../../registry/registry.js';
import type { CliIo } from '../command.js';
import type { RegistryValues } from './common.js';

export type RegistryRead = Awaited<ReturnType<Registry['read']>> & {
  registry: Registry;
  /** The arguments after the subcommand's name. */
  rest: string[];
  values: RegistryValues;
  io: CliIo;
};
