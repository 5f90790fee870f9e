import * as core from '@actions/core';
import { errorMessage, isUsageError } from '../../src/errors.ts';
import { defuseWorkflowCommands } from '../../src/github/escape.ts';
import type { Logger } from '../../src/log.ts';

/**
 * The core's Logger over @actions/core, so messages become annotations where they should.
 * core.info writes its text raw to stdout, where the runner obeys any line that reads as a workflow command:
 * such lines are defused (annotations and debug lines are escaped by @actions/core itself).
 */
export const actionsLogger: Logger = {
  debug: (m) => core.debug(m),
  info: (m) => core.info(defuseWorkflowCommands(m)),
  notice: (m) => core.notice(m),
  warning: (m) => core.warning(m),
  error: (m) => core.error(m),
};

/**
 * Runs an action's body: bad input and failures fail the step with one clear message.
 * A domain "no" is not thrown: the body sets its outputs and calls core.setFailed itself.
 */
export async function runAction(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    core.setFailed(isUsageError(error) ? `Invalid input: ${error.message}` : errorMessage(error));
    if (!isUsageError(error) && error instanceof Error && error.stack) core.debug(error.stack);
  }
}
