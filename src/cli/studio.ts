/**
 * `sladet studio --data D.yaml [--weights W]` or `sladet studio --run runs/detect/exp`: the local web studio to
 * browse, review and annotate (src/studio). Prints the URL with its token and serves until Ctrl-C; opens nothing.
 */
import { type Command, Option } from "commander";
import { BACKENDS, type Backend, DETECT_CONF_THRES } from "../infer/predictor.js";
import { DEFAULT_DEVICE } from "../runs/defaults.js";
import { STUDIO_ACCEPT_CONF, STUDIO_HOST, STUDIO_PORT } from "../studio/defaults.js";
import { UserError } from "./errors.js";
import { parseIntOption, parseUnitFloat } from "./options.js";

interface StudioFlags {
  data?: string;
  run?: string;
  weights?: string;
  backend?: Backend;
  device: string;
  confThres: number;
  imgsz?: number;
  acceptConf: number;
  host: string;
  port: number;
}

const HELP_AFTER = `
Open the printed URL (it carries a random token; every request needs it) in a browser on this machine.
Keys: j/k or arrows next/previous image, b draw a box, r draw the region, v or Esc select, 0-9 class of the
selected box, Shift+1..7 cycle its attributes, Delete remove, Ctrl+Z/Ctrl+Shift+Z undo/redo, Ctrl+S save,
p predict, a accept the selected prediction, Shift+A accept all in the region, f fit, g/l/o layers.
Saving writes the image's LLD label file (16 columns) and region sidecar atomically; the previous version goes to
<dataset root>/.sladet-studio/backups/. A file changed on disk since it was opened is never overwritten.

Examples:
  sladet studio --data data/synth/data.yaml --weights runs/pretrain/exp
  sladet studio --run runs/detect/exp
`;

export function register(program: Command): void {
  program
    .command("studio")
    .description("browse, review and annotate a dataset (or review a detect run) in the browser")
    .option("--data <yaml>", "dataset YAML to browse and annotate")
    .option("--run <dir>", "detect run folder (predictions.json) to review, read-only")
    .option("--weights <file|run>", "model for predictions on demand: checkpoint, .pt, .onnx or run folder")
    .addOption(new Option("--backend <name>", "inference engine (default: onnx for .onnx)").choices(BACKENDS))
    .option("--device <dev>", "cpu, or cuda:N with a CUDA libtorch", DEFAULT_DEVICE)
    .option(
      "--conf-thres <x>",
      "confidence threshold of predictions",
      parseUnitFloat("--conf-thres"),
      DETECT_CONF_THRES,
    )
    .option("--imgsz <px>", "network size of predictions (default 640)", parseIntOption("--imgsz", 1))
    .option(
      "--accept-conf <x>",
      "default confidence of 'accept all predictions in the region'",
      parseUnitFloat("--accept-conf"),
      STUDIO_ACCEPT_CONF,
    )
    .option("--host <addr>", "address to listen on (anything but the loopback is warned about)", STUDIO_HOST)
    .option("--port <n>", "port (0: a free one)", parseIntOption("--port", 0), STUDIO_PORT)
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: StudioFlags) => {
      if ((flags.data === undefined) === (flags.run === undefined))
        throw new UserError("studio: give exactly one of --data D.yaml (annotate) and --run runs/detect/exp (review)");
      if (flags.port > 65535) throw new UserError(`--port expects 0..65535, got ${flags.port}`);
      const { asUserErrors } = await import("./user-errors.js");
      const { startStudio } = await import("../studio/index.js");
      const studio = await asUserErrors(() =>
        startStudio({
          ...(flags.data === undefined ? {} : { data: flags.data }),
          ...(flags.run === undefined ? {} : { run: flags.run }),
          ...(flags.weights === undefined ? {} : { weights: flags.weights }),
          load: { device: flags.device, ...(flags.backend === undefined ? {} : { backend: flags.backend }) },
          confThres: flags.confThres,
          ...(flags.imgsz === undefined ? {} : { imgsz: flags.imgsz }),
          acceptConf: flags.acceptConf,
          host: flags.host,
          port: flags.port,
          warn: (m) => process.stderr.write(`sladet: ${m}\n`),
        }),
      );
      process.stdout.write(`studio: ${studio.source.root}\nopen ${studio.url}\n(Ctrl-C stops it)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await studio.close();
    });
}
