/**
 * The daemon's report folder: the last N reports of each catalog, one JSON file per run, written
 * atomically (a reader never sees half a report) and pruned so the folder stays bounded.
 */
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { jsonReportChunks } from '../report/json-stream.js';
import type { Report } from '../types.js';
import { writeChunksAtomic } from '../util/atomic.js';

export class ReportStore {
  constructor(
    readonly dir: string,
    readonly keep: number,
  ) {}

  /** File name of a report: catalog id + finish time, so names sort chronologically. */
  static fileName(report: Report): string {
    return `${report.catalog.id}-${report.finishedAt.replace(/:/g, '-')}.json`;
  }

  /** Reports of a catalog on disk, oldest first. */
  list(catalogId: string): string[] {
    const re = new RegExp(`^${catalogId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{4}-\\d\\d-\\d\\dT[\\d-]+(?:\\.\\d+)?Z\\.json$`);
    return readdirSync(this.dir).filter((f) => re.test(f)).sort();
  }

  /**
   * Save one report and prune older ones of the same catalog. Throws on I/O errors (a full disk,
   * an unwritable folder): the daemon counts and logs them and keeps running.
   */
  save(report: Report): string {
    mkdirSync(this.dir, { recursive: true });
    const path = join(this.dir, ReportStore.fileName(report));
    writeChunksAtomic(path, jsonReportChunks(report));
    this.prune(report.catalog.id);
    return path;
  }

  /** Delete all but the newest `keep` reports of a catalog. */
  prune(catalogId: string): number {
    const files = this.list(catalogId);
    let removed = 0;
    for (const f of files.slice(0, Math.max(0, files.length - this.keep))) {
      try {
        unlinkSync(join(this.dir, f));
        removed++;
      } catch {
        /* already gone (another pruner, or the operator): nothing to do */
      }
    }
    return removed;
  }
}
