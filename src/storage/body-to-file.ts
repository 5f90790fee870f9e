import { open } from 'node:fs/promises';

/**
 * Writes a response body into a new file (which must not exist), handing each chunk to `onData` in order and
 * waiting whenever it returns a promise (the caller's backpressure). Returns the number of bytes written.
 */
export async function bodyToFile(body: AsyncIterable<Uint8Array>, file: string, onData?: (chunk: Uint8Array) => void | Promise<unknown>): Promise<number> {
  const handle = await open(file, 'wx');
  let written = 0;
  try {
    for await (const chunk of body) {
      const seen = onData?.(chunk);
      await handle.write(chunk, 0, chunk.length);
      if (seen) await seen;
      written += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return written;
}
