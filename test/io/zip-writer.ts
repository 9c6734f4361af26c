/** Test helper: writes a STORED zip (what torch.save writes), for hand-made and mutated checkpoints. */
import { crc32, deflateRawSync } from "node:zlib";

/** A zip archive of the given entries, uncompressed, with correct CRCs. */
export function storedZip(entries: ReadonlyArray<[string, Uint8Array]>): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data) >>> 0;
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.byteLength, true);
    lv.setUint32(22, data.byteLength, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.byteLength, true);
    cv.setUint32(24, data.byteLength, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    chunks.push(local, data);
    central.push(cd);
    offset += local.byteLength + data.byteLength;
  }
  const dirSize = central.reduce((s, c) => s + c.byteLength, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  const all = [...chunks, ...central, eocd];
  const out = new Uint8Array(all.reduce((s, c) => s + c.byteLength, 0));
  let at = 0;
  for (const c of all) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Builds protocol-2 pickle bytes from opcodes and operands given as strings (latin1) or byte arrays. */
export function pickleBytes(...parts: Array<string | number[]>): Uint8Array {
  const bytes: number[] = [];
  for (const p of parts) {
    if (typeof p === "string") for (const ch of p) bytes.push(ch.charCodeAt(0));
    else bytes.push(...p);
  }
  return Uint8Array.from(bytes);
}

/**
 * A one-entry zip whose entry is DEFLATE-compressed `data`, declaring `declaredSize` bytes inflated (default: the real
 * size), with the CRC of `data`: a zip bomb when the declared size is far above the compressed one.
 */
export function deflatedZip(name: string, data: Uint8Array, declaredSize = data.byteLength): Uint8Array {
  const compressed = deflateRawSync(data);
  const zip = storedZip([[name, compressed]]);
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const nameLength = new TextEncoder().encode(name).length;
  const central = 30 + nameLength + compressed.byteLength;
  const crc = crc32(data) >>> 0;
  view.setUint16(8, 8, true); // local header: method DEFLATE
  view.setUint32(14, crc, true);
  view.setUint32(22, declaredSize, true);
  view.setUint16(central + 10, 8, true); // central directory: method, CRC, uncompressed size
  view.setUint32(central + 16, crc, true);
  view.setUint32(central + 24, declaredSize, true);
  return zip;
}
