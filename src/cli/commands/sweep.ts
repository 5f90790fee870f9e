import { runSweep } from '../../sweep/sweep.ts';
import { wholeNumber } from '../../sweep/space.ts';
import { EXIT, type Command } from '../command.ts';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const DEFAULT_SPACE = '.mlops/sweep.yml';

export const command: Command = {
  summary: 'Expand a hyperparameter search space (grid, seeded random) into a GitHub Actions matrix',
  usage: [`sweep [--space ${DEFAULT_SPACE}|YAML] [--seed N] [--count N] [--json]`],
  options: {
    space: { type: 'string' },
    seed: { type: 'string' },
    count: { type: 'string' },
  },
  help: [
    ['--space FILE|YAML', `Search space: grid: lists, random: uniform/log-uniform/choice, seed:, count: (default ${DEFAULT_SPACE})`],
    ['--seed N', "Random search seed (overrides the space's seed)"],
    ['--count N', "Random points, per grid point when there is a grid (overrides the space's count)"],
  ],
  async run({ values }, ctx) {
    const seed = wholeNumber('seed', str(values.seed));
    const count = wholeNumber('count', str(values.count));
    const result = await runSweep(
      { space: str(values.space) ?? DEFAULT_SPACE, cwd: ctx.cwd, ...(seed !== undefined && { seed }), ...(count !== undefined && { count }) },
      { logger: ctx.logger },
    );
    if (values.json) ctx.out(JSON.stringify(result.matrix));
    else {
      const width = Math.max(...result.legs.map((l) => l.leg.length));
      ctx.out(result.legs.map((l) => `${l.leg.padEnd(width)}  ${JSON.stringify(l.params)}`).join('\n'));
    }
    return EXIT.ok;
  },
};
