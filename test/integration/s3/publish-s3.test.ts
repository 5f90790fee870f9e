import { afterAll, beforeAll } from 'vitest';
import { startS3Target, type S3Target } from '../../helpers/s3-servers.ts';
import { publishSuite } from '../publish/suite.ts';

// s3rver in `npm test`; radosgw (which answers 412 to the losing conditional PUT) in `npm run test:s3-real`.
let target: S3Target;
beforeAll(async () => {
  target = await startS3Target();
});
afterAll(async () => {
  await target?.stop();
});

publishSuite(process.env.MLOPS_S3_ENDPOINT ? 'radosgw' : 's3rver', {
  // s3rver ignores If-None-Match, so two racing writers can both "win" (with identical file bytes).
  exclusiveCreate: Boolean(process.env.MLOPS_S3_ENDPOINT),
  async open() {
    const bucket = await target.newBucket();
    const proxy = await target.proxy();
    const remote = target.remote(`s3://${bucket}/registry`, { endpoint: proxy.endpoint, maxAttempts: 2 });
    return { remote, puts: () => proxy.count('PUT') };
  },
});
