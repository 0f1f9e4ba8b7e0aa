/**
 * Writing text that arrives in chunks (issue 14: the JSON report of a sweep) to a stream without
 * holding all of it in memory. Files get the same from `writeChunksAtomic` in ./atomic.ts.
 */
import type { Writable } from 'node:stream';

/**
 * Write chunks to a stream (stdout), waiting for it to drain whenever it asks to, so a slow reader
 * holds back the writer instead of the process buffering the whole report. Rejects if the stream
 * fails or closes first (a reader that went away: `netcheck … --json | head`).
 */
export async function writeChunksToStream(stream: Writable, chunks: Iterable<string>): Promise<void> {
  let failure: Error | undefined;
  const onError = (err: Error): void => {
    failure ??= err;
  };
  stream.on('error', onError);
  try {
    for (const chunk of chunks) {
      if (failure) throw failure;
      if (!stream.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const done = (err?: Error): void => {
            stream.off('drain', ok);
            stream.off('error', done);
            stream.off('close', closed);
            if (err) reject(err);
            else resolve();
          };
          const ok = (): void => done();
          const closed = (): void => done(failure ?? Object.assign(new Error('the output closed before the report was written'), { code: 'EPIPE' }));
          stream.once('drain', ok);
          stream.once('error', done);
          stream.once('close', closed);
        });
      }
    }
    if (failure) throw failure;
  } finally {
    stream.off('error', onError);
  }
}
