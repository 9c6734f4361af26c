/** Torch-free names of the attribute head's inputs (the ONNX exporter writes them, the ONNX backend feeds them). */

/** The tap that is the network input itself. */
export const IMAGE_TAP = "image";

/** Graph input name of a head tap in an ONNX export: `images` for the image tap, the tap's name otherwise. */
export function attributeInputName(tap: string): string {
  return tap === IMAGE_TAP ? "images" : tap;
}
