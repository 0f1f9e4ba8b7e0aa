/**
 * Files written so that a reader (node_exporter, a CI job, a vendor) never sees half of one: the
 * whole text goes to a temporary file in the same folder, which is flushed to disk and renamed
 * over the target. On any failure the temporary file is removed and the old target stays as it
 * was. Temporary files left by a process killed mid-write (SIGKILL, power loss) are removed by
 * the next write to, or check of, the same folder.
 */
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** `.<name>.netcheck-<pid>-<random>.tmp`: dot-prefixed (hidden, and ignored by textfile collectors). */
const TEMP_RE = /^\..+\.netcheck-(\d+)-[0-9a-f]{8}\.tmp$/;

/** A leftover older than this is removed even if its pid is alive (pid reuse, another host on a share). */
const STALE_AFTER_MS = 24 * 3600 * 1000;

/** The temporary file a write to `path` goes through (exported for the tests that leave one behind). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.netcheck-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Write `data` to `path` atomically. Throws the I/O error (ENOSPC, EROFS, EACCES, …) after
 * removing the temporary file; the old `path`, if any, is then untouched.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeChunksAtomic(path, [data]);
}

/**
 * Write the concatenation of `chunks` to `path` atomically, one chunk in memory at a time (the
 * JSON report of a sweep is tens of MB: issue 14). Same contract as {@link writeFileAtomic}.
 */
export function writeChunksAtomic(path: string, chunks: Iterable<string | Uint8Array>): void {
  const tmp = tempPathFor(path);
  cleanStaleTemps(dirname(path));
  const fd = openSync(tmp, 'wx', 0o644);
  let open = true;
  try {
    for (const chunk of chunks) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      // write(2) may write less than asked (a full disk fills mid-buffer): loop until all is written,
      // so a short write ends in the error of the next one, never in a truncated file renamed into place.
      for (let off = 0; off < buf.length; ) {
        const n = writeSync(fd, buf, off, buf.length - off);
        if (n <= 0) throw Object.assign(new Error(`write returned ${n} with ${buf.length - off} bytes left`), { code: 'EIO' });
        off += n;
      }
    }
    fsyncSync(fd);
    open = false;
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    if (open) {
      try {
        closeSync(fd);
      } catch {
        /* the write's error is the one to report */
      }
    }
    removeQuietly(tmp);
    throw err;
  }
  syncDir(dirname(path));
}

/** Make the rename itself durable (POSIX); Windows cannot open a folder for fsync, and needs not. */
function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder; the file itself is already on disk.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporary files of writers that died mid-write (their pid is gone, or the file is a
 * day old). Best effort: a folder that cannot be listed is left alone. Returns the names removed.
 */
export function cleanStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const now = Date.now();
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m) continue;
    const file = join(dir, name);
    let stale = !pidAlive(Number(m[1]));
    if (!stale) {
      try {
        stale = now - statSync(file).mtimeMs > STALE_AFTER_MS;
      } catch {
        continue;
      }
    }
    if (!stale) continue;
    try {
      unlinkSync(file);
      removed.push(name);
    } catch {
      /* another cleaner got it, or not ours to remove */
    }
  }
  return removed;
}

/**
 * Why `path` cannot be written atomically, checked before a run spends minutes measuring: the
 * folder is missing or not a folder, the path is a folder or not a regular file, or a file
 * cannot be created in the folder (read-only, no permission, full). Undefined when it can.
 * Creates (and removes) a temporary file, which also clears stale leftovers there.
 */
export function unwritableReason(path: string): string | undefined {
  if (path === '' || /[/\\]$/.test(path)) return 'names a folder, not a file';
  const dir = dirname(path);
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a folder`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `the folder ${dir} does not exist` : code === 'ENOTDIR' ? `${dir} is not a folder` : `cannot use the folder ${dir} (${code})`;
  }
  try {
    const st = statSync(path);
    if (st.isDirectory()) return 'is a folder; give a file name inside it';
    // Renaming over a device or a pipe (/dev/stdout) would replace it, not write to it.
    if (!st.isFile()) return 'is not a regular file (to print the report, leave out --output)';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return `cannot use it (${code})`;
  }
  const probe = tempPathFor(path);
  try {
    closeSync(openSync(probe, 'wx', 0o644));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `cannot create a file in ${dir} (${describeIoError(code)})`;
  }
  removeQuietly(probe);
  cleanStaleTemps(dir);
  return undefined;
}

/** An I/O error code in words, for messages about files. */
export function describeIoError(code: string | undefined): string {
  switch (code) {
    case 'ENOSPC':
      return 'ENOSPC: no space left on the device';
    case 'EDQUOT':
      return 'EDQUOT: disk quota exceeded';
    case 'EROFS':
      return 'EROFS: the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return `${code}: permission denied`;
    case 'EISDIR':
      return 'EISDIR: it is a folder';
    case 'ENOENT':
      return 'ENOENT: the folder does not exist';
    case 'EIO':
      return 'EIO: an I/O error';
    default:
      return code ?? 'an I/O error';
  }
}
