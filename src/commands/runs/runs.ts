// bramble runs ls | show | diff | best | push: the runs `bramble run` and `bramble train` recorded on the
// repository's bramble/runs branch (docs/runs.md), one subcommand a file.
import { defineCommand } from '../command.js';
import { UsageError } from '../../usecases/options.js';
import { nearest } from '../../errors.js';
import { best } from './best.js';
import { RUNS_OPTIONS, type RunsValues } from './common.js';
import { diff } from './diff.js';
import { ls, LS } from './ls.js';
import { push } from './push.js';
import { show } from './show.js';

export const HELP = `bramble runs — the runs bramble run and bramble train recorded, from git (the bramble/runs branch)

Usage:
  bramble runs ls [--sort METRIC] [--only-changed] [--limit N] [--offset N] [--fetch]
                                   runs newest first (or best first by METRIC), grouped by branch and commit,
                                   each metric with its delta against the champion the run was compared with
  bramble runs show ID             one run: params, metrics, data, source, champion, gates, step times, machine
  bramble runs diff A B [--only-changed]
                                   the metrics (B − A) and the params, data and source that differ
  bramble runs best METRIC         the run with the best METRIC (roc_auc highest, rmse lowest)
  bramble runs push [--remote NAME]
                                   push the local runs; refused when the remote's branch was rewritten by hand

Options:
  --dir DIR          any folder in the model's repository (default: the current folder)
  --sort METRIC      ls: best first by METRIC instead of newest first
  --only-changed     ls: only the params and metrics that differ between the runs shown; diff: metrics too
  --limit N          ls: at most N runs (default ${LS.limit}); --offset N starts past the first N (the next page)
  --fetch            read the remote's runs first (ls, show, diff, best)
  --remote NAME      the git remote (default: origin), reached over HTTP(S) with a token from BRAMBLE_GIT_TOKEN,
                     GITHUB_TOKEN, GITLAB_TOKEN or CI_JOB_TOKEN
  --json, --csv, --md
                     print JSON, CSV or a Markdown table instead of text

An ID is a run's whole id, a unique prefix of it, or its hash (the part after the dash).
Exit codes: 0 ok, 2 a usage error, an unknown run or metric, or a remote rewritten by hand.
`;

const SUBCOMMANDS = { ls, show, diff, best, push } as const;

export const command = defineCommand({
  name: 'runs',
  help: HELP,
  options: RUNS_OPTIONS,
  positionals: { max: Infinity, what: 'arguments' },
  async run({ values, positionals }, io) {
    const [sub = 'ls', ...rest] = positionals;
    if (!Object.hasOwn(SUBCOMMANDS, sub)) {
      const guess = nearest(sub, Object.keys(SUBCOMMANDS));
      throw new UsageError(`unknown runs command ${JSON.stringify(sub)}; ${guess ? `did you mean ${guess}? ` : ''}use ls, show, diff, best or push`);
    }
    return SUBCOMMANDS[sub as keyof typeof SUBCOMMANDS](values as RunsValues, rest, io);
  },
});
