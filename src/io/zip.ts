/**
 * A small, strict ZIP reader (PKWARE APPNOTE 6.3): the end-of-central-directory record (and its ZIP64 form), the
 * central directory, local headers, STORED and DEFLATE entries, CRC-32 checked. Enough for PyTorch's checkpoints
 * (torch.save writes STORED entries, 64-byte aligned); every offset is bounds-checked so a damaged file gives an
 * error naming the file and the entry, never a crash.
 */
import { crc32, inflateRawSync } from "node:zlib";

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const EOCD64_LOCATOR_SIZE = 20;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
/** The EOCD record may be followed by a comment of up to 65535 bytes. */
const MAX_COMMENT = 0xffff;
const ZIP64_EXTRA_ID = 0x0001;
const U32_MAX = 0xffffffff;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
/** General-purpose flag bit 0: the entry is encrypted. */
const FLAG_ENCRYPTED = 1;

/**
 * Largest size a DEFLATE entry may declare: 1 GiB. torch.save writes STORED entries (bounded by the file itself); a
 * deflated entry comes from a re-zipped checkpoint, whose pickle is kilobytes and whose largest storage (yolov5x6's
 * biggest convolution) is about 19 MB. Node cannot hold an inflated buffer much larger (4 GiB crashed the inflater).
 */
export const MAX_INFLATED_ENTRY_BYTES = 1024 * 1024 * 1024;

/**
 * Largest ratio of a DEFLATE entry's declared size to its compressed size. DEFLATE can reach about 1032:1 on runs of
 * one byte (a zip bomb); network weights and pickles compress by less than 2:1 and 10:1. Checked before inflating, so
 * a 1 MB entry declaring 1 GiB is refused without allocating the gigabyte.
 */
export const MAX_DEFLATE_RATIO = 100;

/** Largest number of entries in the central directory (a yolov5x checkpoint has about 800). */
export const MAX_ZIP_ENTRIES = 100_000;

/** A damaged or unsupported archive: the message names the file and what was expected. */
export class ZipError extends Error {
  override name = "ZipError";
}

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  /** Offset of the entry's local header. */
  localOffset: number;
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  readonly #view: DataView;

  /**
   * @param bytes the whole archive.
   * @param source file name for error messages.
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly source = "<zip>",
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#readDirectory();
  }

  #fail(message: string): never {
    throw new ZipError(`${this.source}: not a valid zip archive: ${message}`);
  }

  #u16(at: number): number {
    if (at < 0 || at + 2 > this.bytes.byteLength) this.#fail(`read past the end at offset ${at}`);
    return this.#view.getUint16(at, true);
  }
  #u32(at: number): number {
    if (at < 0 || at + 4 > this.bytes.byteLength) this.#fail(`read past the end at offset ${at}`);
    return this.#view.getUint32(at, true);
  }
  #u64(at: number): number {
    if (at < 0 || at + 8 > this.bytes.byteLength) this.#fail(`read past the end at offset ${at}`);
    const v = this.#view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.#fail(`64-bit field at offset ${at} is too large`);
    return Number(v);
  }

  #findEocd(): number {
    const last = this.bytes.byteLength - EOCD_SIZE;
    const first = Math.max(0, last - MAX_COMMENT);
    for (let at = last; at >= first; at--) {
      if (this.#view.getUint32(at, true) === SIG_EOCD) return at;
    }
    this.#fail(`no end-of-central-directory record (file of ${this.bytes.byteLength} bytes; truncated?)`);
  }

  #readDirectory(): void {
    if (this.bytes.byteLength < EOCD_SIZE) this.#fail(`file of ${this.bytes.byteLength} bytes is too short`);
    const eocd = this.#findEocd();
    let count = this.#u16(eocd + 10);
    let dirSize = this.#u32(eocd + 12);
    let dirOffset = this.#u32(eocd + 16);
    const locator = eocd - EOCD64_LOCATOR_SIZE;
    if (locator >= 0 && this.#u32(locator) === SIG_EOCD64_LOCATOR) {
      const eocd64 = this.#u64(locator + 8);
      if (this.#u32(eocd64) !== SIG_EOCD64) this.#fail(`ZIP64 end record expected at offset ${eocd64}`);
      count = this.#u64(eocd64 + 32);
      dirSize = this.#u64(eocd64 + 40);
      dirOffset = this.#u64(eocd64 + 48);
    }
    if (count > MAX_ZIP_ENTRIES) this.#fail(`${count} entries, more than the ${MAX_ZIP_ENTRIES} read`);
    if (dirOffset + dirSize > this.bytes.byteLength) {
      this.#fail(`central directory (${dirSize} bytes at ${dirOffset}) extends past the end of the file`);
    }
    let at = dirOffset;
    for (let k = 0; k < count; k++) {
      if (this.#u32(at) !== SIG_CENTRAL) this.#fail(`central directory entry ${k} expected at offset ${at}`);
      const flags = this.#u16(at + 8);
      const method = this.#u16(at + 10);
      const crc = this.#u32(at + 16);
      let compressedSize = this.#u32(at + 20);
      let size = this.#u32(at + 24);
      const nameLength = this.#u16(at + 28);
      const extraLength = this.#u16(at + 30);
      const commentLength = this.#u16(at + 32);
      let localOffset = this.#u32(at + 42);
      const nameEnd = at + CENTRAL_SIZE + nameLength;
      if (nameEnd > this.bytes.byteLength) this.#fail(`entry ${k}'s name extends past the end of the file`);
      const name = new TextDecoder().decode(this.bytes.subarray(at + CENTRAL_SIZE, nameEnd));
      // ZIP64 extra field: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order
      let extra = nameEnd;
      const extraEnd = nameEnd + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = this.#u16(extra);
        const length = this.#u16(extra + 2);
        if (id === ZIP64_EXTRA_ID) {
          let p = extra + 4;
          if (size === U32_MAX) {
            size = this.#u64(p);
            p += 8;
          }
          if (compressedSize === U32_MAX) {
            compressedSize = this.#u64(p);
            p += 8;
          }
          if (localOffset === U32_MAX) localOffset = this.#u64(p);
        }
        extra += 4 + length;
      }
      if (flags & FLAG_ENCRYPTED) this.#fail(`entry "${name}" is encrypted`);
      if (this.entries.has(name)) this.#fail(`entry "${name}" appears twice`);
      this.entries.set(name, { name, method, compressedSize, size, crc, localOffset });
      at = extraEnd + commentLength;
    }
  }

  /** Entry names in directory order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** A DEFLATE entry's declared size must be at most {@link MAX_INFLATED_ENTRY_BYTES} and {@link MAX_DEFLATE_RATIO}:1. */
  #checkInflatedSize(e: ZipEntry): void {
    if (e.size > MAX_INFLATED_ENTRY_BYTES) {
      this.#fail(`entry "${e.name}" declares ${e.size} bytes, more than the ${MAX_INFLATED_ENTRY_BYTES} inflated`);
    }
    if (e.size > Math.max(e.compressedSize, 1) * MAX_DEFLATE_RATIO) {
      this.#fail(
        `entry "${e.name}" declares ${e.size} bytes from ${e.compressedSize} compressed, a ratio above ${MAX_DEFLATE_RATIO}:1 (a zip bomb?)`,
      );
    }
  }

  /** The entry's bytes (a view into the archive for STORED entries), CRC-checked. */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) this.#fail(`no entry "${name}"`);
    if (this.#u32(e.localOffset) !== SIG_LOCAL)
      this.#fail(`entry "${name}": local header expected at ${e.localOffset}`);
    const start = e.localOffset + LOCAL_SIZE + this.#u16(e.localOffset + 26) + this.#u16(e.localOffset + 28);
    if (start + e.compressedSize > this.bytes.byteLength) {
      this.#fail(`entry "${name}" (${e.compressedSize} bytes at ${start}) extends past the end of the file`);
    }
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    let data: Uint8Array;
    if (e.method === METHOD_STORED) {
      if (e.size !== e.compressedSize) this.#fail(`stored entry "${name}" has two different sizes`);
      data = raw;
    } else if (e.method === METHOD_DEFLATE) {
      this.#checkInflatedSize(e);
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(e.size, 1) });
      } catch (err) {
        this.#fail(`entry "${name}" does not inflate (${(err as Error).message})`);
      }
      if (data.byteLength !== e.size) this.#fail(`entry "${name}" inflates to ${data.byteLength} bytes, not ${e.size}`);
    } else {
      this.#fail(`entry "${name}" uses compression method ${e.method} (expected 0 stored or 8 deflate)`);
    }
    if (crc32(data) >>> 0 !== e.crc >>> 0) this.#fail(`entry "${name}" fails its CRC-32 check (damaged file)`);
    return data;
  }
}
