/**
 * The JavaScript loop sladet's random_perspective sampled pixels with before the image addon took it over (kept as
 * the reference the native warp must equal bit for bit): output pixel centres mapped by the inverse matrix, bilinear
 * between source pixel centres with `pad` outside, Math.round; the mask by the containing source pixel.
 */
export function referenceWarp(
  src: Uint8Array,
  w: number,
  h: number,
  msrc: Uint8Array,
  inv: readonly number[],
  outWidth: number,
  outHeight: number,
  pad: number,
  maskFill: number,
): { image: Uint8Array; mask: Uint8Array } {
  const img = new Uint8Array(outWidth * outHeight * 3);
  const mask = new Uint8Array(outWidth * outHeight);
  const projective = inv[6] !== 0 || inv[7] !== 0 || inv[8] !== 1;
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    const cy = y + 0.5;
    let X = inv[0]! * 0.5 + inv[1]! * cy + inv[2]!;
    let Y = inv[3]! * 0.5 + inv[4]! * cy + inv[5]!;
    let Z = inv[6]! * 0.5 + inv[7]! * cy + inv[8]!;
    for (let x = 0; x < outWidth; x++, o++, X += inv[0]!, Y += inv[3]!, Z += inv[6]!) {
      const sx = projective ? X / Z : X;
      const sy = projective ? Y / Z : Y;
      const mi = Math.floor(sx);
      const mj = Math.floor(sy);
      mask[o] = mi >= 0 && mj >= 0 && mi < w && mj < h ? msrc[mj * w + mi]! : maskFill;
      const u = sx - 0.5;
      const v = sy - 0.5;
      const i0 = Math.floor(u);
      const j0 = Math.floor(v);
      const o3 = o * 3;
      if (i0 < -1 || j0 < -1 || i0 >= w || j0 >= h) {
        img.fill(pad, o3, o3 + 3);
        continue;
      }
      const fu = u - i0;
      const fv = v - j0;
      const weights = [(1 - fu) * (1 - fv), fu * (1 - fv), (1 - fu) * fv, fu * fv];
      const inside = [i0 >= 0 && j0 >= 0, i0 + 1 < w && j0 >= 0, i0 >= 0 && j0 + 1 < h, i0 + 1 < w && j0 + 1 < h];
      const offsets = [0, 3, w * 3, w * 3 + 3].map((d) => (j0 * w + i0) * 3 + d);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += (inside[k] ? src[offsets[k]! + c]! : pad) * weights[k]!;
        img[o3 + c] = Math.round(s);
      }
    }
  }
  return { image: img, mask };
}
