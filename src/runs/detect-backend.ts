/**
 * The backend `sladet detect` runs when `--backend` is not given: the faster one for the weights. On the CPU that is
 * onnxruntime, on every model and host measured (BENCHMARKS.md, bench/detect: YOLOv5n/s end to end 1.4–1.8× PyTorch
 * against libtorch's 0.9–1.0×; its convolutions, the fused attribute head and its thread pool beat libtorch eager's),
 * run on the weights' ONNX export, made on first use and cached next to them (src/runs/onnx-cache.ts). libtorch runs
 * when the device is a GPU (onnxruntime-node runs on the CPU here), when onnxruntime cannot be loaded, and when the
 * export cannot be made (a read-only folder, a model the exporter does not know), each time saying why.
 */
import type { Backend } from "../infer/predictor.js";
import { type CachedOnnxOptions, cachedOnnxExport } from "./onnx-cache.js";

/** The backend chosen, the file it opens, and why (printed by `sladet detect`). */
export interface BackendChoice {
  backend: Backend;
  file: string;
  why: string;
}

/** What {@link defaultDetectBackend} decides from. */
export interface DefaultBackendInput extends CachedOnnxOptions {
  /** A checkpoint or a YOLOv5 .pt (a run folder already resolved to its weights/best). */
  weights: string;
  /** The --device flag ("cpu", "cuda", "cuda:N"). */
  device: string;
  /** Whether onnxruntime-node loads. @default tries to import it */
  onnxAvailable?: () => Promise<boolean>;
}

async function onnxRuntimeLoads(): Promise<boolean> {
  try {
    await import("onnxruntime-node");
    return true;
  } catch {
    return false;
  }
}

/** Chooses the backend for weights that both backends can run (see the module comment). Never throws for the export. */
export async function defaultDetectBackend(input: DefaultBackendInput): Promise<BackendChoice> {
  const libtorch = (why: string): BackendChoice => ({ backend: "libtorch", file: input.weights, why });
  if (input.device !== "cpu") return libtorch(`on ${input.device} (onnxruntime runs on the CPU only)`);
  if (!(await (input.onnxAvailable ?? onnxRuntimeLoads)()))
    return libtorch("onnxruntime-node cannot be loaded here; the default on the CPU is onnx");
  try {
    const cached = await cachedOnnxExport(input.weights, input);
    const how =
      cached.status.kind === "reused"
        ? "reused"
        : cached.status.kind === "written"
          ? "made now, once"
          : `made again: ${cached.status.reason}`;
    return {
      backend: "onnx",
      file: cached.model,
      why: `the faster one on the CPU; ONNX export ${how}; --backend libtorch forces libtorch`,
    };
  } catch (err) {
    const reason = (err as Error).message.split("\n")[0];
    return libtorch(`no ONNX export of ${input.weights} (${reason}); the default on the CPU is onnx`);
  }
}
