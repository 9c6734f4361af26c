/**
 * Caches of decoded images at the loaded size (YOLOv5's `--cache ram|disk`), so an epoch does not decode every image
 * again (a mosaic reads 4–8 images per sample).
 *
 * - RAM: one SharedArrayBuffer per image plus a status word per image, created by the main thread and shared with
 *   every loader worker (no copies). Filled lazily: the first worker that needs an image claims it (atomic
 *   compare-exchange), decodes it and publishes it; others decode for themselves meanwhile.
 * - Disk: one raw file per image under `<cacheDir>/images-<imgSize>-<linear|area>/` (training loaders resize with
 *   INTER_LINEAR, validation loaders shrink with INTER_AREA: different pixels): a 16-byte header (`SLDI`, format version,
 *   width, height as little-endian uint32) and the RGB bytes. The file name is a hash of the image's absolute path,
 *   its content (SHA-256) and the loaded size, so an edited image gets a new entry; files are written
 *   atomically, so a killed run never leaves a truncated entry. Stale entries are left for the user to delete
 *   (the whole folder is safe to remove).
 */
import { createHash } from "node:crypto";
import { accessSync, constants, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../util/fs.js";
import { fileDigest } from "./check-cache.js";

/** Cache modes of the loader: decoded images in shared memory, on disk, or none. */
export const CACHE_MODES = ["ram", "disk"] as const;
export type CacheMode = (typeof CACHE_MODES)[number] | false;

/** A cache of decoded images, indexed like the loader's items. */
export interface ImageCache {
  /** The cached RGB bytes of image `index`, or undefined. Callers must not modify them. */
  get(index: number): Uint8Array | undefined;
  /** Offers the bytes of image `index` to the cache (ignored when another holder already filled it). */
  put(index: number, data: Uint8Array): void;
}

const EMPTY = 0;
const FILLING = 1;
const READY = 2;

/** The shared memory of a RAM cache: what the main thread posts to each worker. */
export interface RamCacheHandles {
  buffers: SharedArrayBuffer[];
  /** One Int32 per image: 0 empty, 1 being filled, 2 ready. */
  status: SharedArrayBuffer;
}

/** Allocates a RAM cache for images of the given byte sizes. */
export function createRamCache(byteSizes: readonly number[]): RamCacheHandles {
  return {
    buffers: byteSizes.map((n) => new SharedArrayBuffer(n)),
    status: new SharedArrayBuffer(4 * Math.max(1, byteSizes.length)),
  };
}

/** Images in a {@link RamCacheHandles}, usable from any thread that holds the handles. */
export class RamImageCache implements ImageCache {
  readonly #buffers: SharedArrayBuffer[];
  readonly #status: Int32Array;

  constructor(handles: RamCacheHandles) {
    this.#buffers = handles.buffers;
    this.#status = new Int32Array(handles.status);
  }

  get(index: number): Uint8Array | undefined {
    return Atomics.load(this.#status, index) === READY ? new Uint8Array(this.#buffers[index]!) : undefined;
  }

  put(index: number, data: Uint8Array): void {
    const buffer = this.#buffers[index];
    if (!buffer || buffer.byteLength !== data.byteLength) {
      throw new Error(`RAM cache slot ${index} holds ${buffer?.byteLength ?? 0} bytes, got ${data.byteLength}`);
    }
    if (Atomics.compareExchange(this.#status, index, EMPTY, FILLING) !== EMPTY) return;
    new Uint8Array(buffer).set(data);
    Atomics.store(this.#status, index, READY);
  }

  /** Number of images cached. */
  filled(): number {
    let n = 0;
    for (let i = 0; i < this.#buffers.length; i++) if (Atomics.load(this.#status, i) === READY) n++;
    return n;
  }
}

const DISK_MAGIC = 0x49444c53; // "SLDI" little-endian
const DISK_VERSION = 1;
const DISK_HEADER_BYTES = 16;

/** What a disk cache needs to know per image: its path and its loaded size. */
export interface DiskCacheEntry {
  image: string;
  width: number;
  height: number;
}

/**
 * The folder of a disk cache: `<cacheDir>/images-<imgSize>-linear` for a training loader (`augment`), `-area` for a
 * validation loader (a temporary folder when `cacheDir` is not writable).
 */
export function diskCacheFolder(cacheDir: string, imgSize: number, augment: boolean): string {
  const name = `images-${imgSize}-${augment ? "linear" : "area"}`;
  const dir = join(cacheDir, name);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return dir;
  } catch {
    const fallback = join(tmpdir(), "sladet-cache", name);
    mkdirSync(fallback, { recursive: true });
    return fallback;
  }
}

/** Images as raw files in a folder (see the module comment for the layout). */
export class DiskImageCache implements ImageCache {
  readonly #dir: string;
  readonly #entries: readonly DiskCacheEntry[];
  readonly #files = new Map<number, string>();

  constructor(dir: string, entries: readonly DiskCacheEntry[]) {
    this.#dir = dir;
    this.#entries = entries;
  }

  /** The cache file of image `index`. */
  fileOf(index: number): string {
    let file = this.#files.get(index);
    if (!file) {
      const e = this.#entries[index]!;
      const path = resolve(e.image);
      const key = createHash("sha1")
        .update(`${path}|${fileDigest(path)}|${e.width}x${e.height}`)
        .digest("hex");
      file = join(this.#dir, `${key.slice(0, 24)}.rgb`);
      this.#files.set(index, file);
    }
    return file;
  }

  get(index: number): Uint8Array | undefined {
    const e = this.#entries[index]!;
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.fileOf(index));
    } catch {
      return undefined;
    }
    const expected = e.width * e.height * 3;
    if (bytes.length !== DISK_HEADER_BYTES + expected) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, DISK_HEADER_BYTES);
    if (
      view.getUint32(0, true) !== DISK_MAGIC ||
      view.getUint32(4, true) !== DISK_VERSION ||
      view.getUint32(8, true) !== e.width ||
      view.getUint32(12, true) !== e.height
    ) {
      return undefined;
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset + DISK_HEADER_BYTES, expected);
  }

  put(index: number, data: Uint8Array): void {
    const e = this.#entries[index]!;
    const out = new Uint8Array(DISK_HEADER_BYTES + data.byteLength);
    const view = new DataView(out.buffer);
    view.setUint32(0, DISK_MAGIC, true);
    view.setUint32(4, DISK_VERSION, true);
    view.setUint32(8, e.width, true);
    view.setUint32(12, e.height, true);
    out.set(data, DISK_HEADER_BYTES);
    try {
      writeFileAtomic(this.fileOf(index), out);
    } catch {
      // A cache that cannot be written only costs decoding time.
    }
  }
}

/** Bytes the system can still give (MemAvailable from /proc/meminfo where present, else free memory). */
export function availableMemoryBytes(freemem: () => number): number {
  try {
    const line = readFileSync("/proc/meminfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("MemAvailable:"));
    const kb = Number(line?.split(/\s+/)[1]);
    if (Number.isFinite(kb) && kb > 0) return kb * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}
