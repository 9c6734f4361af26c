import { Presets, SingleBar } from "cli-progress";

/** Options of {@link progress}. */
export interface ProgressOptions {
  /** Total number of steps. */
  total: number;
  /** Text before the bar (e.g. "epoch 3/30"). */
  label?: string;
  /** Unit shown in the rate, e.g. "it", "img". @default "it" */
  unit?: string;
  /** Force the bar off (e.g. in library use); otherwise shown when stderr is a terminal or lines are printed. */
  silent?: boolean;
}

/** A progress display: a live bar with ETA on a terminal, a line every ~10% otherwise (CI logs stay readable). */
export interface Progress {
  /** Advances by `n` steps; `fields` are shown after the bar (e.g. losses). */
  tick(n?: number, fields?: Record<string, string | number>): void;
  /** Ends the display (prints the final state). */
  stop(): void;
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === "number" ? v.toPrecision(4) : v}`)
    .join("  ");
}

/** Creates a progress display with an ETA for a loop a user waits for. */
export function progress(options: ProgressOptions): Progress {
  const { total, label = "", unit = "it", silent = false } = options;
  if (silent) return { tick() {}, stop() {} };
  const start = performance.now();
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      {
        format: `${label} {bar} {percentage}% {value}/{total} [{duration_formatted}<{eta_formatted}, {rate} ${unit}/s] {fields}`,
        barsize: 24,
        hideCursor: true,
        etaBuffer: 20,
        stream: process.stderr,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { fields: "", rate: "0.00" });
    let done = 0;
    return {
      tick(n = 1, fields = {}) {
        done += n;
        const rate = (done / ((performance.now() - start) / 1000)).toFixed(2);
        bar.update(done, { fields: formatFields(fields), rate });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let done = 0;
  let nextReport = Math.max(1, Math.ceil(total / 10));
  let lastFields: Record<string, string | number> = {};
  const report = () => {
    const secs = (performance.now() - start) / 1000;
    const eta = done > 0 ? (secs / done) * (total - done) : 0;
    const rate = done / Math.max(secs, 1e-9);
    process.stderr.write(
      `${label} ${done}/${total} ${((100 * done) / Math.max(total, 1)).toFixed(0)}% ` +
        `[${secs.toFixed(1)}s<${eta.toFixed(1)}s, ${rate.toFixed(2)} ${unit}/s] ${formatFields(lastFields)}\n`,
    );
  };
  return {
    tick(n = 1, fields = {}) {
      done += n;
      lastFields = fields;
      if (done >= nextReport && done < total) {
        report();
        nextReport += Math.max(1, Math.ceil(total / 10));
      }
    },
    stop() {
      report();
    },
  };
}
