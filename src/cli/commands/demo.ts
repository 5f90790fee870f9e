import { resolve } from 'node:path';
import { demoSummary, runDemo } from '../../demo/demo.ts';
import { EXIT, type Command } from '../command.ts';

export const DEFAULT_WORKDIR = '.mlops-demo';

export const command: Command = {
  summary: 'Run the whole loop locally on embedded defaults: data, train, evaluate, gate, publish, GitOps PR',
  usage: ['demo [--workdir .mlops-demo] [--fresh] [--no-merge] [--no-python]'],
  options: {
    workdir: { type: 'string' },
    fresh: { type: 'boolean' },
    'no-merge': { type: 'boolean' },
    'no-python': { type: 'boolean' },
  },
  help: [
    ['--workdir <dir>', `Where the demo keeps its project, remotes and GitOps repository (default ${DEFAULT_WORKDIR}); runs build on each other`],
    ['--fresh', 'Delete the work folder first and start from run 1'],
    ['--no-merge', 'Leave the pull request unmerged, so production keeps its current model'],
    ['--no-python', 'Train the Node leg only, even when Debian\'s python3 has numpy, scikit-learn and onnx'],
  ],
  async run(args, ctx) {
    const workdir = resolve(ctx.cwd, typeof args.values.workdir === 'string' ? args.values.workdir : DEFAULT_WORKDIR);
    const result = await runDemo(
      { workdir, fresh: args.values.fresh === true, merge: args.values['no-merge'] !== true, python: args.values['no-python'] !== true },
      { logger: ctx.logger, env: ctx.env, cwd: ctx.cwd },
    );
    if (args.values.json) {
      const { gateReport: _report, ...rest } = result;
      ctx.out(JSON.stringify({ ...rest, gate: { passed: result.gate.passed, bestLeg: result.gate.bestLeg, baseline: result.gate.baseline }, pullRequest: result.pullRequest && { ...result.pullRequest, body: undefined } }, null, 2));
    } else {
      ctx.out(demoSummary(result, ctx.cwd));
    }
    // A "no" from the gate or from the rollout check of the merged version.
    return result.gate.passed && (result.rollout === undefined || result.rollout.rollout.status === 'serving') ? EXIT.ok : EXIT.no;
  },
};
