/** Horizontal and vertical flips of a sample: image, region mask and boxes together. */
import { mapBoxes, type RgbImage, type Sample } from "./types.js";

function flipRows(data: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(data.length);
  const row = width * channels;
  for (let y = 0; y < height; y++) out.set(data.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  return out;
}

function flipColumns(data: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const o = y * width * channels;
    for (let x = 0; x < width; x++) {
      const s = o + x * channels;
      const d = o + (width - 1 - x) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = data[s + c]!;
    }
  }
  return out;
}

/** Mirrors left–right: x → width − x. */
export function flipLeftRight(s: Sample): Sample {
  const { width: w, height: h } = s.image;
  return {
    image: { data: flipColumns(s.image.data, w, h, 3), width: w, height: h },
    mask: { data: flipColumns(s.mask.data, w, h, 1), width: w, height: h },
    labels: mapBoxes(s.labels, (x1, y1, x2, y2) => [w - x2, y1, w - x1, y2]),
    ...(s.weakImage ? { weakImage: flipImage(s.weakImage, flipColumns) } : {}),
    ...(s.fineImage ? { fineImage: flipImage(s.fineImage, flipColumns) } : {}),
  };
}

/** Mirrors top–bottom: y → height − y. */
export function flipUpDown(s: Sample): Sample {
  const { width: w, height: h } = s.image;
  return {
    image: { data: flipRows(s.image.data, w, h, 3), width: w, height: h },
    mask: { data: flipRows(s.mask.data, w, h, 1), width: w, height: h },
    labels: mapBoxes(s.labels, (x1, y1, x2, y2) => [x1, h - y2, x2, h - y1]),
    ...(s.weakImage ? { weakImage: flipImage(s.weakImage, flipRows) } : {}),
    ...(s.fineImage ? { fineImage: flipImage(s.fineImage, flipRows) } : {}),
  };
}

/** An RGB image flipped by `flip` (flipRows or flipColumns). */
function flipImage(image: RgbImage, flip: typeof flipRows): RgbImage {
  return { data: flip(image.data, image.width, image.height, 3), width: image.width, height: image.height };
}
