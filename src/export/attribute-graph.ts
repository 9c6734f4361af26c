/**
 * The attribute head as an ONNX graph of its own (`<model>.attributes.onnx`): the detections' boxes go in, the
 * attribute probabilities come out, with RoI pooling inside the graph (ONNX RoiAlign, opset 16's
 * `output_half_pixel` = torchvision's aligned = false, adaptive sampling) after the same box quantisation as
 * `poolCells` (src/model/roi-pool.ts). Pooling inside the graph keeps the ONNX backend free of libtorch and of a
 * JavaScript RoIAlign, and lets the browser run it too; the head is a second graph because its boxes come from NMS,
 * which runs between the two.
 *
 * Inputs: one map per head tap (`images` for the image tap; the detector graph outputs the others under their tap
 * names), `rois` [K, 5] float32 rows of (image index, x1, y1, x2, y2) normalised to the input, `sizes` [K, 2] float32
 * (box w, h / network size). Outputs: `cell_size` [K, 3] and `binary` [K, 6, 2] probabilities (softmax).
 */
import {
  ATTRIBUTE_INPUT_NORM_EPS,
  ATTRIBUTE_STAGE_POOL,
  type AttributeHead,
  BINARY_ATTRIBUTES,
  CELL_SIZE_CLASSES,
  IMAGE_TAP_MEAN,
  IMAGE_TAP_STD,
} from "../model/attribute-head.js";
import { attributeInputName, IMAGE_TAP } from "../model/attribute-io.js";
import { floatData } from "../model/batchnorm-fold.js";
import type { Conv2d, Linear } from "../torch/index.js";
import { float, type GraphBuilder } from "./graph-builder.js";
import { OnnxDataType } from "./onnx-proto.js";
import { emitConv2d } from "./yolo-graph.js";

/** trunc(x) = sign(x)·floor(|x|) (ONNX has no Trunc). */
function emitTrunc(g: GraphBuilder, x: string): string {
  return g.op("Mul", [g.op("Sign", [x]), g.op("Floor", [g.op("Abs", [x])])]);
}

/** One tap's RoIAlign of the quantised boxes: [K, C, roiH, roiW]. */
function emitPool(
  g: GraphBuilder,
  map: string,
  coords: string,
  batchIndex: string,
  roi: readonly [number, number],
): string {
  const shape = g.op("Shape", [map]);
  const hw = g.op("Cast", [g.op("Slice", [shape, g.constInt([2]), g.constInt([4])])], { to: OnnxDataType.FLOAT });
  const [h, w] = g.opN("Split", [hw, g.constInt([1, 1])], 2, { axis: 0 });
  const scale = g.op("Concat", [w!, h!, w!, h!], { axis: 0 });
  const box = emitTrunc(g, g.op("Mul", [coords, scale]));
  const [x1, y1, x2, y2] = g.opN("Split", [box, g.constInt([1, 1, 1, 1])], 4, { axis: 1 });
  const one = g.constFloat([1], []);
  const widened = [x1!, y1!, g.op("Max", [x2!, g.op("Add", [x1!, one])]), g.op("Max", [y2!, g.op("Add", [y1!, one])])];
  return g.op("RoiAlign", [map, g.op("Concat", widened, { axis: 1 }), batchIndex], {
    mode: "avg",
    output_height: roi[0],
    output_width: roi[1],
    sampling_ratio: 0,
    spatial_scale: float(1),
    coordinate_transformation_mode: "output_half_pixel",
  });
}

/** Each row of [K, C, H, W] to mean 0, variance 1 over (C, H, W). */
function emitStandardise(g: GraphBuilder, x: string): string {
  const axes = { axes: [1, 2, 3], keepdims: 1 };
  const centred = g.op("Sub", [x, g.op("ReduceMean", [x], axes)]);
  const variance = g.op("ReduceMean", [g.op("Mul", [centred, centred])], axes);
  return g.op("Div", [centred, g.op("Sqrt", [g.op("Add", [variance, g.constFloat([ATTRIBUTE_INPUT_NORM_EPS], [])])])]);
}

/** The image tap's fixed per-channel standardisation (AttributeHead's imageNorm "channel"). */
function emitChannelNorm(g: GraphBuilder, x: string): string {
  const mean = g.constFloat([...IMAGE_TAP_MEAN], [1, 3, 1, 1]);
  return g.op("Div", [g.op("Sub", [x, mean]), g.constFloat([...IMAGE_TAP_STD], [1, 3, 1, 1])]);
}

function emitLinear(g: GraphBuilder, x: string, m: Linear, hint: string): string {
  const w = g.weight(`${hint}.weight`, floatData(m.weight.data), m.weight.data.shape);
  if (!m.bias) return g.op("MatMul", [x, g.op("Transpose", [w], { perm: [1, 0] })], {}, hint);
  const b = g.weight(`${hint}.bias`, floatData(m.bias.data), m.bias.data.shape);
  return g.op("Gemm", [x, w, b], { transB: 1 }, hint);
}

/** A head with class input: row `class` of fcClass's weight for each cell, [K, fc1 width] (AttributeHead.forward). */
function emitClassTerm(g: GraphBuilder, classes: string, fcClass: Linear): string {
  const w = g.weight("fcClass.weight", floatData(fcClass.weight.data), fcClass.weight.data.shape);
  return g.op("Gather", [g.op("Transpose", [w], { perm: [1, 0] }), classes], { axis: 0 }, "fcClass");
}

function emitStage(g: GraphBuilder, x: string, conv: Conv2d, slope: number, hint: string): string {
  const y = emitConv2d(g, x, conv, floatData(conv.weight.data), floatData(conv.bias!.data), hint);
  const act = g.op("LeakyRelu", [y], { alpha: float(slope) });
  return g.op("MaxPool", [act], {
    kernel_shape: [ATTRIBUTE_STAGE_POOL, ATTRIBUTE_STAGE_POOL],
    strides: [ATTRIBUTE_STAGE_POOL, ATTRIBUTE_STAGE_POOL],
  });
}

/**
 * Emits the head in eval mode (dropout is the identity) and declares its inputs and outputs.
 * @param slope the head's LeakyReLU slope.
 */
export function emitAttributeHead(g: GraphBuilder, head: AttributeHead, slope: number): void {
  const rois = g.input(
    "rois",
    OnnxDataType.FLOAT,
    ["cells", 5],
    "(image index, x1, y1, x2, y2) normalised to the input",
  );
  const sizes = g.input("sizes", OnnxDataType.FLOAT, ["cells", 2], "box (w, h) / network size");
  const classes = head.fcClass
    ? g.input("classes", OnnxDataType.INT64, ["cells"], "each cell's detected class (a head with class input)")
    : null;
  const [index, coords] = g.opN("Split", [rois, g.constInt([1, 4])], 2, { axis: 1 });
  const batchIndex = g.op("Cast", [g.op("Squeeze", [index!, g.constInt([1])])], { to: OnnxDataType.INT64 });
  const pooled = head.taps.map((tap, i) => {
    // the seed's heads know only their total input channels (one entry for several taps): leave each tap's symbolic
    const channels = head.tapChannels.length === head.taps.length ? head.tapChannels[i]! : `${tap}_channels`;
    const dims = ["batch", channels, `${tap}_height`, `${tap}_width`];
    const map = g.input(attributeInputName(tap), OnnxDataType.FLOAT, dims);
    const p = emitPool(g, map, coords!, batchIndex, head.roiSize);
    if (!head.inputNorm) return p;
    if (tap !== IMAGE_TAP || head.imageNorm === "cell") return emitStandardise(g, p);
    const fixed = emitChannelNorm(g, p);
    return head.imageNorm === "both" ? g.op("Concat", [emitStandardise(g, p), fixed], { axis: 1 }) : fixed;
  });
  let x = pooled.length === 1 ? pooled[0]! : g.op("Concat", pooled, { axis: 1 });
  x = emitStage(g, x, head.conv1, slope, "conv1");
  x = emitStage(g, x, head.conv2, slope, "conv2");
  x = g.op("Flatten", [emitStage(g, x, head.conv3, slope, "conv3")], { axis: 1 });
  const scaledWh = g.op("Mul", [sizes, g.constFloat([head.boxScale], [])]);
  const size = emitLinear(g, scaledWh, head.fcBox, "fcBox");
  const sizeAndClass = classes && head.fcClass ? g.op("Add", [size, emitClassTerm(g, classes, head.fcClass)]) : size;
  const h1 = g.op("LeakyRelu", [g.op("Add", [emitLinear(g, x, head.fc1, "fc1"), sizeAndClass])], {
    alpha: float(slope),
  });
  const h2 = g.op("LeakyRelu", [emitLinear(g, h1, head.fc2, "fc2")], { alpha: float(slope) });
  let sizeLogits = emitLinear(g, h2, head.fcSize, "fcSize");
  if (head.fcSizeBox) {
    const norm = head.sizeNorm;
    const mean = norm ? g.constFloat([norm[0], norm[1]], [1, 2]) : null;
    const sd = norm ? g.constFloat([norm[2], norm[3]], [1, 2]) : null;
    const sizeInput = mean && sd ? g.op("Div", [g.op("Sub", [sizes, mean]), sd]) : scaledWh;
    sizeLogits = g.op("Add", [sizeLogits, emitLinear(g, sizeInput, head.fcSizeBox, "fcSizeBox")]);
  }
  const cellSize = g.op("Softmax", [sizeLogits], { axis: 1 });
  const binaryLogits = g.op("Reshape", [emitLinear(g, h2, head.fc3, "fc3"), g.constInt([-1, BINARY_ATTRIBUTES, 2])]);
  const binary = g.op("Softmax", [binaryLogits], { axis: 2 });
  g.output(cellSize, "cell_size", OnnxDataType.FLOAT, ["cells", CELL_SIZE_CLASSES]);
  g.output(binary, "binary", OnnxDataType.FLOAT, ["cells", BINARY_ATTRIBUTES, 2]);
}
