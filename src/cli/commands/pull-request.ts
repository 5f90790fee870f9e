import { UsageError } from '../../errors.ts';
import type { Command } from '../command.ts';

// Placeholder until this subcommand's issue lands it.
export const command: Command = {
  summary: 'not available yet',
  usage: ['pull-request'],
  options: {},
  help: [],
  async run() {
    throw new UsageError('pull-request is not available yet in this build');
  },
};
