/**
 * The slice of Octokit the core uses. The core takes it as a parameter, so it never imports @actions/*;
 * src/github/octokit.ts builds the real one, and tests may pass any Octokit pointed at a stand-in.
 */
export interface GitHubClient {
  request(route: string, params?: Record<string, unknown>): Promise<{ status: number; data: unknown; headers: Record<string, unknown> }>;
  paginate(route: string, params?: Record<string, unknown>): Promise<unknown[]>;
}

export interface RepoRef {
  owner: string;
  repo: string;
}

/** What the core needs to know about the workflow run's event (from @actions/github's context). */
export interface EventContext extends RepoRef {
  eventName: string;
  sha: string;
  payload: Record<string, unknown>;
}

/** GitHub answered with an HTTP error (Octokit's RequestError has `status`). */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}
