/**
 * Writing text that arrives in chunks (issue 14: the JSON report of a sweep) without holding all of
 * it in memory, with the same contract as {@link writeFileAtomic} in ./atomic.ts: a temporary file
 * in the same directory, fsync, rename over the target, and on any failure the temporary file is
 * removed and the target is left as it was. A reader (or a crash, or Ctrl-C) never sees half a report.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';

/** Write every chunk to the file descriptor, however many calls the kernel needs. */
function writeAll(fd: number, chunk: string): void {
  const buf = Buffer.from(chunk, 'utf8');
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** Write the concatenation of `chunks` to `path` atomically, one chunk in memory at a time. */
export function writeChunksAtomic(path: string, chunks: Iterable<string>): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w', 0o644);
  let closed = false;
  try {
    for (const chunk of chunks) writeAll(fd, chunk);
    fsyncSync(fd);
    closed = true;
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    if (!closed) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* best effort */
    }
    throw err;
  }
}

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
