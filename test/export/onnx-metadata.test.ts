/** The ONNX exports' metadata as the ONNX backend reads it back: what it refuses, naming the file. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  metadataProps,
  ONNX_FORMAT,
  ONNX_FORMAT_VERSION,
  type OnnxModelMetadata,
  readMetadata,
} from "../../src/export/onnx-metadata.js";

const META: OnnxModelMetadata = {
  format: ONNX_FORMAT,
  formatVersion: ONNX_FORMAT_VERSION,
  sladetVersion: "0.0.0",
  graph: "detect",
  names: ["cell"],
  strides: [8, 16, 32],
  imgsz: [192, 192],
  batch: 1,
  dynamic: true,
  attributeModel: "m.attributes.onnx",
  attributeTaps: ["image"],
  attributes: null,
};

/** The metadata props of `meta` as the ONNX file lists them. */
const props = (meta: OnnxModelMetadata) => Object.entries(metadataProps(meta)).map(([key, value]) => ({ key, value }));

test("the attribute head's fine-view factor is read back; absent means the detector's input", () => {
  assert.equal(readMetadata(props({ ...META, attributeImageScale: 2 }), "m.onnx").attributeImageScale, 2);
  assert.equal(readMetadata(props(META), "m.onnx").attributeImageScale, undefined);
  for (const bad of [0, 2.5, 9])
    assert.throws(
      () => readMetadata(props({ ...META, attributeImageScale: bad }), "m.onnx"),
      /m\.onnx: metadata attributeImageScale must be a whole number from 1 to 4/,
    );
});

test("a file without sladet's metadata, or from a newer sladet, is refused by name", () => {
  assert.throws(() => readMetadata([], "x.onnx"), /x\.onnx: not a sladet ONNX export/);
  assert.throws(
    () => readMetadata(props({ ...META, formatVersion: ONNX_FORMAT_VERSION + 1 }), "x.onnx"),
    /x\.onnx: exported by a newer sladet/,
  );
});
