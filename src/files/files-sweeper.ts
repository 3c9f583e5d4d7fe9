import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { FileContentStore } from './persistence/file-content.store';
import { FilesStore } from './persistence/files.store';

const BATCH = 500;

/**
 * Deletes expired files and the uploads a dead process left (WorkerModule: processes whose role
 * runs jobs), every FILES_SWEEP_INTERVAL_MS: their rows in batches (any number of sweepers share
 * the work), then their content. Reads never show an expired file, swept or not; until it is
 * swept it still counts toward its tenant's storage.
 */
@Injectable()
export class FilesSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Files');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly store: FilesStore,
    private readonly contents: FileContentStore,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.filesSweepIntervalMs);
    this.timer.unref();
  }

  /** One pass (none while another runs); returns how many files it deleted. */
  sweep(): Promise<number> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<number> {
    // An upload older than twice its deadline is no longer being written by anyone.
    const staleBefore = new Date(Date.now() - 2 * this.config.filesUploadTimeoutMs);
    let deleted = 0;
    try {
      for (;;) {
        const ids = await this.store.sweep(staleBefore, BATCH);
        await this.contents.delete(ids);
        deleted += ids.length;
        if (ids.length < BATCH || !this.timer) break;
      }
      if (deleted) this.logger.log(`deleted ${deleted} expired or abandoned file(s)`);
    } catch (error) {
      this.logger.warn(`file sweep failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return deleted;
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
