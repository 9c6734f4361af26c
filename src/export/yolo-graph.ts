/**
 * The YOLOv5 detector as an ONNX graph, emitted from sladet's own model (not traced): each layer of the description
 * becomes its ONNX operators, every Conv's BatchNorm folded into the convolution, SiLU as x·σ(x), and Detect decoded
 * in the graph like Ultralytics' export: output0 [B, N, 5 + nc] rows of (xc, yc, w, h) in input pixels, objectness and
 * class probabilities, the same rows as `YoloModel.forward(x).decoded`. Grids come from the input's shape, so one
 * graph serves fixed and dynamic input sizes.
 */
import { floatData } from "../model/batchnorm-fold.js";
import { Bottleneck, C3, Concat, Conv, SPPF } from "../model/blocks.js";
import { absoluteFrom } from "../model/config.js";
import { WH_SCALE, XY_OFFSET, XY_SCALE } from "../model/constants.js";
import { Detect } from "../model/detect.js";
import type { YoloModel } from "../model/yolo.js";
import { type Conv2d, MaxPool2d, Sequential, Upsample } from "../torch/index.js";
import type { GraphBuilder } from "./graph-builder.js";

/** An ONNX Conv node over a Conv2d's geometry with the given weight and bias. */
export function emitConv2d(
  g: GraphBuilder,
  x: string,
  conv: Conv2d,
  weight: Float32Array,
  bias: Float32Array | null,
  hint: string,
): string {
  const shape = conv.weight.data.shape;
  const inputs = [x, g.weight(`${hint}.weight`, weight, shape)];
  if (bias) inputs.push(g.weight(`${hint}.bias`, bias, [bias.length]));
  const [ph, pw] = conv.padding;
  return g.op(
    "Conv",
    inputs,
    {
      kernel_shape: shape.slice(2),
      strides: [...conv.stride],
      pads: [ph, pw, ph, pw],
      dilations: [...conv.dilation],
      group: conv.groups,
    },
    hint,
  );
}

/** x·σ(x). */
export function emitSilu(g: GraphBuilder, x: string): string {
  return g.op("Mul", [x, g.op("Sigmoid", [x])], {}, "silu");
}

function emitConv(g: GraphBuilder, x: string, m: Conv, hint: string): string {
  const { weight, bias } = m.foldedWeights();
  const y = emitConv2d(g, x, m.conv, weight, bias, hint);
  return m.act ? emitSilu(g, y) : y;
}

function emitBottleneck(g: GraphBuilder, x: string, m: Bottleneck, hint: string): string {
  const y = emitConv(g, emitConv(g, x, m.cv1, `${hint}.cv1`), m.cv2, `${hint}.cv2`);
  return m.add ? g.op("Add", [y, x]) : y;
}

function emitSequential(g: GraphBuilder, x: string, m: Sequential, hint: string): string {
  return m.layers.reduce((h, layer, i) => emitModule(g, h, layer as never, `${hint}.${i}`), x);
}

function emitC3(g: GraphBuilder, x: string, m: C3, hint: string): string {
  const a = emitSequential(g, emitConv(g, x, m.cv1, `${hint}.cv1`), m.m, `${hint}.m`);
  const b = emitConv(g, x, m.cv2, `${hint}.cv2`);
  return emitConv(g, g.op("Concat", [a, b], { axis: 1 }), m.cv3, `${hint}.cv3`);
}

function emitMaxPool(g: GraphBuilder, x: string, m: MaxPool2d): string {
  const pair = (v: number | readonly number[] | undefined, d: number): [number, number] =>
    v === undefined ? [d, d] : typeof v === "number" ? [v, v] : [v[0]!, v[1]!];
  const k = pair(m.kernelSize, 0);
  const [ph, pw] = pair(m.options.padding, 0);
  const dil = pair(m.options.dilation, 1);
  if (dil[0] !== 1 || dil[1] !== 1) throw new Error("ONNX export: dilated max pooling is not supported");
  return g.op("MaxPool", [x], {
    kernel_shape: k,
    strides: pair(m.options.stride ?? m.kernelSize, 0),
    pads: [ph, pw, ph, pw],
    ceil_mode: m.options.ceilMode ? 1 : 0,
  });
}

function emitSppf(g: GraphBuilder, x: string, m: SPPF, hint: string): string {
  const a = emitConv(g, x, m.cv1, `${hint}.cv1`);
  const b = emitMaxPool(g, a, m.m);
  const c = emitMaxPool(g, b, m.m);
  const d = emitMaxPool(g, c, m.m);
  return emitConv(g, g.op("Concat", [a, b, c, d], { axis: 1 }), m.cv2, `${hint}.cv2`);
}

/** Nearest upsampling with PyTorch's rule (source index = floor(dst / scale)). */
function emitUpsample(g: GraphBuilder, x: string, m: Upsample): string {
  const { scaleFactor, size } = m.options;
  const attrs = { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" };
  if (scaleFactor !== undefined) return g.op("Resize", [x, "", g.constFloat([1, 1, scaleFactor, scaleFactor])], attrs);
  if (size === undefined) throw new Error("ONNX export: Upsample without size or scale factor");
  const [h, w] = typeof size === "number" ? [size, size] : size;
  const sizes = g.op(
    "Concat",
    [g.op("Slice", [g.op("Shape", [x]), g.constInt([0]), g.constInt([2])]), g.constInt([h, w])],
    {
      axis: 0,
    },
  );
  return g.op("Resize", [x, "", "", sizes], attrs);
}

function emitModule(g: GraphBuilder, x: string, m: unknown, hint: string): string {
  if (m instanceof Conv) return emitConv(g, x, m, hint);
  if (m instanceof C3) return emitC3(g, x, m, hint);
  if (m instanceof Bottleneck) return emitBottleneck(g, x, m, hint);
  if (m instanceof SPPF) return emitSppf(g, x, m, hint);
  if (m instanceof Upsample) return emitUpsample(g, x, m);
  if (m instanceof MaxPool2d) return emitMaxPool(g, x, m);
  if (m instanceof Sequential) return emitSequential(g, x, m, hint);
  throw new Error(`ONNX export: no ONNX form for layer ${hint} (${(m as object).constructor.name})`);
}

/** Slice of an int64 1-D shape tensor: elements [start, end). */
function shapeSlice(g: GraphBuilder, shape: string, start: number, end: number): string {
  return g.op("Slice", [shape, g.constInt([start]), g.constInt([end])]);
}

/** [1, 1, ny, nx, 2] cell offsets (x, y) of a [B, C, ny, nx] map, built from its runtime shape. */
function emitGrid(g: GraphBuilder, shape: string): string {
  const axis = (i: number, view: number[]) => {
    const n = g.op("Squeeze", [shapeSlice(g, shape, i, i + 1), g.constInt([0])]);
    const r = g.op("Cast", [g.op("Range", [g.constInt([0], []), n, g.constInt([1], [])])], { to: 1 });
    return g.op("Reshape", [r, g.constInt(view)]);
  };
  const xs = axis(3, [1, 1, 1, -1, 1]);
  const ys = axis(2, [1, 1, -1, 1, 1]);
  const full = g.op("Concat", [g.constInt([1, 1]), shapeSlice(g, shape, 2, 4), g.constInt([1])], { axis: 0 });
  return g.op("Concat", [g.op("Expand", [xs, full]), g.op("Expand", [ys, full])], { axis: 4 }, "grid");
}

/** One Detect level: 1×1 conv → [B, na, ny, nx, no] → decoded rows [B, na·ny·nx, no]. */
function emitDetectLevel(g: GraphBuilder, x: string, detect: Detect, i: number, anchors: Float32Array): string {
  const conv = detect.m.at(i);
  const y = emitConv2d(g, x, conv, floatData(conv.weight.data), floatData(conv.bias!.data), `model.detect.m.${i}`);
  const shape = g.op("Shape", [y]);
  const batch = shapeSlice(g, shape, 0, 1);
  const split = g.op("Concat", [batch, g.constInt([detect.na, detect.no]), shapeSlice(g, shape, 2, 4)], { axis: 0 });
  const p = g.op("Sigmoid", [g.op("Transpose", [g.op("Reshape", [y, split])], { perm: [0, 1, 3, 4, 2] })]);
  const part = (a: number, b: number) => g.op("Slice", [p, g.constInt([a]), g.constInt([b]), g.constInt([4])]);
  const stride = detect.stride[i]!;
  const scaled = g.op("Sub", [g.op("Mul", [part(0, 2), g.constFloat([XY_SCALE], [])]), g.constFloat([XY_OFFSET], [])]);
  const xy = g.op("Mul", [g.op("Add", [scaled, emitGrid(g, shape)]), g.constFloat([stride], [])]);
  const anchorPx = Array.from(anchors.subarray(i * detect.na * 2, (i + 1) * detect.na * 2), (a) => a * stride);
  const wh2 = g.op("Mul", [part(2, 4), g.constFloat([WH_SCALE], [])]);
  const wh = g.op("Mul", [g.op("Mul", [wh2, wh2]), g.constFloat(anchorPx, [1, detect.na, 1, 1, 2])]);
  const rows = g.op("Concat", [xy, wh, part(4, detect.no)], { axis: 4 });
  return g.op("Reshape", [rows, g.op("Concat", [batch, g.constInt([-1, detect.no])], { axis: 0 })]);
}

/**
 * Emits the detector on `images` ([B, 3, H, W] float32 in 0..1).
 * @param tapNames taps whose feature maps to return as well (for the attribute head).
 * @returns the decoded output and the requested taps' values.
 */
export function emitYolo(
  g: GraphBuilder,
  model: YoloModel,
  images: string,
  tapNames: readonly string[] = [],
): { decoded: string; taps: Record<string, string> } {
  const outputs: string[] = [];
  let decoded: string | null = null;
  const anchors = floatData(model.detect.anchors.data);
  for (const spec of model.layers) {
    const i = spec.index;
    const input = (f: number) => {
      const j = absoluteFrom(f, i);
      return j < 0 ? images : outputs[j]!;
    };
    const m = model.model.at(i);
    if (m instanceof Detect) {
      const levels = (spec.from as number[]).map((f, l) => emitDetectLevel(g, input(f), m, l, anchors));
      decoded = g.op("Concat", levels, { axis: 1 }, "decoded");
    } else if (m instanceof Concat) {
      outputs[i] = g.op("Concat", (spec.from as number[]).map(input), { axis: m.dim });
    } else {
      outputs[i] = emitModule(g, input(spec.from as number), m, `model.${i}`);
    }
  }
  if (!decoded) throw new Error("ONNX export: the model has no Detect layer");
  const taps: Record<string, string> = {};
  for (const name of tapNames) {
    const layer = model.taps[name];
    if (layer === undefined) throw new Error(`ONNX export: the model has no tap "${name}"`);
    taps[name] = outputs[layer]!;
  }
  return { decoded, taps };
}
