/**
 * A batch as plain typed arrays, laid out as design.md §7.1's batch (the loader workers build it; the main thread
 * wraps it in tensors without reshaping):
 * - `images` uint8 [B, 3, H, W], RGB in 0..255: a quarter of float32's bytes in every batch built ahead, transferred
 *   and waiting for collection; {@link toBatch} makes §7.1's float32 0..1 in libtorch (`float() / 255`, as YOLOv5's
 *   training loop does: the same float32 values as dividing in JavaScript, all 256 checked);
 * - `targets` float32 [N, 6 + K] = image index in the batch, class, xc, yc, w, h (normalised to W and H, i.e. to the
 *   network input after augmentation), a0..aK−1 (−1 unknown); K = 7 for LLD, so [N, 13];
 * - `masks` uint8 [B, 1, H, W], 1 where labelled.
 */
import { heldoutClassCode, isHeldoutClass, labelStride, rowScale, type Sample } from "./augment/index.js";

/** Columns of a target row before the attributes: image index, class, xc, yc, w, h. */
export const TARGET_BOX_FIELDS = 6;

/** A collated batch in typed arrays (shapes in the fields). */
export interface RawBatch {
  /** Position of the batch in its epoch. */
  batchIndex: number;
  /** Dataset index of each image, in batch order. */
  indices: number[];
  /** Batch size B, height H and width W of every image in it. */
  size: number;
  height: number;
  width: number;
  images: Uint8Array;
  masks: Uint8Array;
  targets: Float32Array;
  /** Rows of `targets` (N). */
  numTargets: number;
  /** Per target row: how much augmentation scaled the object (see Labels.scale); N values. */
  targetScales: Float32Array;
  /** Attribute columns per target (K). */
  numAttributes: number;
  /** Held-out objects after augmentation (LoaderItem.heldout), [M, 6] rows like targets' first 6 columns. */
  heldout: Float32Array;
  /** The weak view, laid out as `images` (present when the samples carry `weakImage`). */
  weakImages?: Uint8Array;
  /** The fine view, uint8 [B, 3, k·H, k·W] (present when the samples carry `fineImage`), and its k. */
  fineImages?: Uint8Array;
  fineScale?: number;
}

/** Collates samples of one size into a {@link RawBatch}; boxes are clipped to the image, empty boxes dropped. */
export function assembleRawBatch(
  samples: readonly Sample[],
  indices: number[],
  batchIndex: number,
  numAttributes: number,
): RawBatch {
  const first = samples[0];
  if (!first) throw new Error("an empty batch");
  const { width: W, height: H } = first.image;
  const plane = W * H;
  const images = new Uint8Array(samples.length * 3 * plane);
  const weakImages = samples.every((s) => s.weakImage) ? new Uint8Array(images.length) : undefined;
  const fine = fineViews(samples, W, H);
  const masks = new Uint8Array(samples.length * plane);
  const rows: number[] = [];
  const scales: number[] = [];
  const heldout: number[] = [];
  const inStride = labelStride(numAttributes);
  samples.forEach((s, b) => {
    if (s.image.width !== W || s.image.height !== H || s.mask.width !== W || s.mask.height !== H) {
      throw new Error(`batch of mixed sizes: ${W}×${H} and ${s.image.width}×${s.image.height}`);
    }
    writeChw(images, b, s.image.data, plane);
    if (weakImages) writeChw(weakImages, b, s.weakImage!.data, plane);
    if (fine) writeChw(fine.fineImages, b, s.fineImage!.data, plane * fine.fineScale ** 2);
    masks.set(s.mask.data, b * plane);
    const l = s.labels;
    for (let r = 0; r < l.count; r++) {
      const o = r * inStride;
      const x1 = Math.min(Math.max(l.data[o + 1]!, 0), W);
      const y1 = Math.min(Math.max(l.data[o + 2]!, 0), H);
      const x2 = Math.min(Math.max(l.data[o + 3]!, 0), W);
      const y2 = Math.min(Math.max(l.data[o + 4]!, 0), H);
      if (x2 <= x1 || y2 <= y1) continue;
      const cls = l.data[o]!;
      const box = [(x1 + x2) / 2 / W, (y1 + y2) / 2 / H, (x2 - x1) / W, (y2 - y1) / H];
      if (isHeldoutClass(cls)) {
        heldout.push(b, heldoutClassCode(cls), ...box);
        continue;
      }
      rows.push(b, cls, ...box);
      for (let k = 0; k < numAttributes; k++) rows.push(l.data[o + 5 + k]!);
      scales.push(rowScale(l, r));
    }
  });
  const targets = Float32Array.from(rows);
  return {
    batchIndex,
    indices,
    size: samples.length,
    height: H,
    width: W,
    images,
    masks,
    targets,
    numTargets: targets.length / (TARGET_BOX_FIELDS + numAttributes),
    targetScales: Float32Array.from(scales),
    numAttributes,
    heldout: Float32Array.from(heldout),
    ...(weakImages ? { weakImages } : {}),
    ...(fine ?? {}),
  };
}

/** The batch's fine-view buffer and k when every sample has a fine view of one factor k; undefined when none has. */
function fineViews(
  samples: readonly Sample[],
  W: number,
  H: number,
): { fineImages: Uint8Array; fineScale: number } | undefined {
  if (!samples.some((s) => s.fineImage)) return undefined;
  const fineScale = (samples[0]!.fineImage?.width ?? 0) / W;
  for (const s of samples) {
    const f = s.fineImage;
    if (!f || f.width !== fineScale * W || f.height !== fineScale * H)
      throw new Error(`batch of ${W}×${H} images whose fine views are not all ${fineScale}× their size`);
  }
  return { fineImages: new Uint8Array(samples.length * 3 * W * H * fineScale ** 2), fineScale };
}

/** Writes an HWC uint8 image as image `b` of a CHW uint8 batch. */
function writeChw(out: Uint8Array, b: number, src: Uint8Array, plane: number): void {
  const base = b * 3 * plane;
  for (let p = 0, q = 0; p < plane; p++, q += 3) {
    out[base + p] = src[q]!;
    out[base + plane + p] = src[q + 1]!;
    out[base + 2 * plane + p] = src[q + 2]!;
  }
}

/** The buffers of a batch, for a zero-copy postMessage transfer. */
export function rawBatchTransferList(batch: RawBatch): ArrayBuffer[] {
  return [
    batch.images.buffer,
    batch.masks.buffer,
    batch.targets.buffer,
    batch.targetScales.buffer,
    batch.heldout.buffer,
    ...(batch.weakImages ? [batch.weakImages.buffer] : []),
    ...(batch.fineImages ? [batch.fineImages.buffer] : []),
  ] as ArrayBuffer[];
}
