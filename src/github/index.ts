export type { GitHubClient, EventContext, RepoRef } from './client.ts';
export { httpStatus } from './client.ts';
export { findPullRequestNumber } from './pull-request-number.ts';
export { upsertStickyComment, type StickyComment, type StickyResult } from './sticky-comment.ts';
