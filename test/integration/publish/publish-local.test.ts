import { join } from 'node:path';
import { LocalRemote } from '../../../src/storage/local-remote.ts';
import type { Body, PutOptions } from '../../../src/storage/remote.ts';
import { publishSuite } from './suite.ts';
import { tempDir } from '../../helpers/tmp.ts';

/** A local remote that counts the writes that reach the directory. */
class CountingLocalRemote extends LocalRemote {
  writes = 0;
  override async putIfAbsent(key: string, body: Body, options?: PutOptions) {
    const result = await super.putIfAbsent(key, body);
    void options;
    if (result === 'created') this.writes++;
    return result;
  }
}

publishSuite('the local-directory remote', {
  exclusiveCreate: true,
  async open() {
    const remote = new CountingLocalRemote(tempDir('remote'));
    return { remote, puts: () => remote.writes };
  },
});

