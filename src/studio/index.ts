/**
 * `sladet studio` as a library: {@link startStudio} opens a dataset (or a detect run) and serves the studio on the
 * loopback with a random token; the returned URL carries the token. Nothing is opened in a browser by itself.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadOptions } from "../api/detector.js";
import { loadDataYaml } from "../data/dataset-yaml.js";
import { backendFor, modelFileFor } from "../infer/model-file.js";
import { DETECT_CONF_THRES } from "../infer/predictor.js";
import { OptionError } from "../util/errors.js";
import { DatasetSource } from "./dataset-source.js";
import { STUDIO_ACCEPT_CONF, STUDIO_HOST, STUDIO_PORT } from "./defaults.js";
import { type CellFinder, openDetectorFinder, PredictionCache } from "./predictions.js";
import { RunSource } from "./run-source.js";
import { exposedHostWarning, isLoopback, newToken } from "./security.js";
import { buildServer } from "./server.js";
import type { StudioSource } from "./source.js";
import { ThumbnailCache } from "./thumbnails.js";

export { STUDIO_ACCEPT_CONF, STUDIO_HOST, STUDIO_PORT } from "./defaults.js";

/** Options of {@link startStudio}: exactly one of `data` and `run`. */
export interface StudioOptions {
  /** A dataset YAML to browse and annotate. */
  data?: string;
  /** A detect run folder (with predictions.json) to review, read-only. */
  run?: string;
  /** Weights for predictions on demand (a checkpoint, a run folder, a YOLOv5 .pt or an .onnx). @default none */
  weights?: string;
  /** Options of `load()` for the weights. @default {} */
  load?: LoadOptions;
  /** Confidence threshold of the predictions. @default DETECT_CONF_THRES (0.25) */
  confThres?: number;
  /** Network size of the predictions. @default DEFAULT_IMG_SIZE (640) */
  imgsz?: number;
  /** Default confidence of "accept all predictions in the region". @default STUDIO_ACCEPT_CONF (0.5) */
  acceptConf?: number;
  /** @default STUDIO_HOST (127.0.0.1) */
  host?: string;
  /** @default STUDIO_PORT (0: a free port) */
  port?: number;
  /** A fixed token (tests); @default a new random one */
  token?: string;
  /** Replaces the model behind predictions (tests: a fake at the API boundary). @default the weights through load() */
  finder?: () => Promise<CellFinder>;
  /** Receives warnings (a host other than the loopback). @default console.warn */
  warn?: (message: string) => void;
}

/** A running studio. */
export interface Studio {
  /** The URL to open, with the token. */
  url: string;
  token: string;
  port: number;
  source: StudioSource;
  close(): Promise<void>;
}

function openSource(options: StudioOptions): Promise<StudioSource> | StudioSource {
  if ((options.data === undefined) === (options.run === undefined))
    throw new OptionError("data", "or run: give exactly one (a dataset YAML to annotate, or a detect run to review)");
  if (options.run !== undefined) return RunSource.open(options.run);
  return DatasetSource.open(loadDataYaml(options.data!));
}

/**
 * Where thumbnails are cached: under the dataset root's `.sladet-cache` (beside `sladet check`'s cache); for a
 * read-only run, a temporary folder removed on close.
 */
function thumbnailDir(source: StudioSource, readOnly: boolean): { dir: string; temporary: boolean } {
  if (readOnly) return { dir: mkdtempSync(join(tmpdir(), "sladet-studio-")), temporary: true };
  return { dir: join(source.root, ".sladet-cache", "studio-thumbnails"), temporary: false };
}

/** Opens the data (or run), starts the server and returns its URL. */
export async function startStudio(options: StudioOptions): Promise<Studio> {
  const { host = STUDIO_HOST, port = STUDIO_PORT, acceptConf = STUDIO_ACCEPT_CONF } = options;
  if (options.run !== undefined && options.weights !== undefined)
    throw new OptionError("weights", "is for a dataset: a detect run already holds its predictions");
  if (options.weights !== undefined && options.finder === undefined) {
    // a wrong path or backend fails now, not at the first prediction (the model itself still opens lazily)
    modelFileFor(options.weights, backendFor(options.weights, options.load?.backend));
  }
  const source = await openSource(options);
  const token = options.token ?? newToken();
  const predict = {
    confThres: options.confThres ?? DETECT_CONF_THRES,
    ...(options.imgsz === undefined ? {} : { imgsz: options.imgsz }),
  };
  const open =
    options.finder ??
    (options.weights === undefined
      ? undefined
      : () => openDetectorFinder(options.weights!, { load: options.load ?? {}, predict }));
  const predictions = open ? new PredictionCache(open) : null;
  const loopbackOnly = isLoopback(host);
  if (!loopbackOnly) (options.warn ?? console.warn)(exposedHostWarning(host));
  let boundPort = port;
  const thumbDir = thumbnailDir(source, options.run !== undefined);
  const thumbs = new ThumbnailCache(thumbDir.dir);
  const app = buildServer({
    source,
    token,
    port: () => boundPort,
    loopbackOnly,
    thumbnails: thumbs,
    predictions,
    acceptConf,
  });
  await app.listen({ host, port });
  const address = app.server.address();
  boundPort = typeof address === "object" && address ? address.port : port;
  const shown = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${shown}:${boundPort}/?token=${token}`,
    token,
    port: boundPort,
    source,
    async close() {
      await app.close();
      await predictions?.dispose();
      if (thumbDir.temporary) rmSync(thumbDir.dir, { recursive: true, force: true });
    },
  };
}
