/**
 * The cache of per-image check results: one JSON file per dataset YAML and settings, entries keyed by image path and
 * invalidated when the content (a SHA-256 digest) of the image, its label file or its region sidecar changes. Size and
 * modification time are not enough: `cp -p`, `rsync -t`, `tar -x` and `touch -r` keep both across an edit.
 */
import { createHash } from "node:crypto";
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.js";
import type { CheckedImage } from "./check.js";
import type { DataConfig } from "./dataset-yaml.js";
import { MAX_IMAGE_FILE_BYTES } from "./limits.js";

/** Bump when the checks or the cached shape change: old cache files are then ignored. */
const CACHE_VERSION = 2;

/**
 * `size:mtime` of a file, or "-" when it does not exist: a cheap change signal (the studio's browse list uses it),
 * never the check cache's key ({@link fileDigest}), since `cp -p`, `rsync -t` and `touch -r` keep both across an edit.
 */
export function fileStamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return "-";
  }
}

/** Bytes hashed per read. */
const DIGEST_CHUNK_BYTES = 1 << 20;

/**
 * `size:sha256` of a regular file's content; "-" when it cannot be opened (missing), `special:<mode>` for a FIFO or
 * device (never read), `large:<size>:<mtime>` past {@link MAX_IMAGE_FILE_BYTES} (the check refuses such files anyway).
 */
export function fileDigest(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return "-";
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) return `special:${s.mode}`;
    if (s.size > MAX_IMAGE_FILE_BYTES) return `large:${s.size}:${s.mtimeMs}`;
    const hash = createHash("sha256");
    const chunk = Buffer.allocUnsafe(DIGEST_CHUNK_BYTES);
    let total = 0;
    for (let n = readSync(fd, chunk); n > 0 && total <= MAX_IMAGE_FILE_BYTES; n = readSync(fd, chunk)) {
      hash.update(chunk.subarray(0, n));
      total += n;
    }
    return `${total}:${hash.digest("hex")}`;
  } catch {
    return "-";
  } finally {
    closeSync(fd);
  }
}

/** Cached per-image results of one dataset. */
export interface CheckCache {
  /** The cached result for `image` when its stamps are unchanged. */
  get(image: string, stamps: string): CheckedImage | undefined;
  set(image: string, stamps: string, result: CheckedImage): void;
  /** Writes the cache file (atomically) when anything changed; failures to write are ignored (it is only a cache). */
  save(): void;
  /** The cache file. */
  readonly file: string;
}

function writableDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Opens (or starts) the cache of `config`'s dataset. */
export function openCheckCache(config: DataConfig, cacheDir?: string): CheckCache {
  const settings = JSON.stringify({
    v: CACHE_VERSION,
    yaml: config.file,
    nc: config.nc,
    attributes: config.attributes,
    order: config.regionOrder,
    units: config.regionUnits,
  });
  const key = createHash("sha1").update(settings).digest("hex").slice(0, 16);
  let dir = cacheDir ?? join(config.root, ".sladet-cache");
  if (!writableDir(dir)) dir = join(tmpdir(), "sladet-cache");
  const file = join(dir, `check-${key}.json`);
  let entries: Record<string, { stamps: string; result: CheckedImage }> = {};
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { settings?: string; entries?: typeof entries };
    if (parsed.settings === settings && parsed.entries) entries = parsed.entries;
  } catch {
    // No cache yet, or an unreadable one: start empty.
  }
  let dirty = false;
  return {
    file,
    get(image, stamps) {
      const entry = entries[image];
      return entry && entry.stamps === stamps ? entry.result : undefined;
    },
    set(image, stamps, result) {
      entries[image] = { stamps, result };
      dirty = true;
    },
    save() {
      if (!dirty) return;
      try {
        writeFileAtomic(file, JSON.stringify({ settings, entries }));
        dirty = false;
      } catch {
        // A cache that cannot be written only costs time on the next run.
      }
    },
  };
}
