import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one,
 * never a partial file: the bytes go to a hidden temporary file in the same directory,
 * are flushed to disk, and the temporary file is renamed over `path` (atomic within one
 * file system). Bank connectors that pick up `*.xml` files never see the temporary name.
 *
 * @throws the file system error when the directory is missing or not writable.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Makes a rename durable across power loss; some platforms cannot open directories, which is harmless there. */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // Directory fsync is unsupported on some platforms (e.g. Windows); the rename itself still happened.
  } finally {
    await handle?.close();
  }
}
