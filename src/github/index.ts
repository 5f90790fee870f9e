export type { GitHubClient, EventContext, RepoRef } from './client.ts';
export { httpStatus } from './client.ts';
export { findPullRequestNumber } from './pull-request-number.ts';
export { upsertStickyComment, fitComment, MAX_COMMENT_CHARS, type StickyComment, type StickyResult } from './sticky-comment.ts';
