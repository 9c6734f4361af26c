/**
 * Charts as inline SVG, rendered in Node by Apache ECharts' server-side renderer (no JavaScript in the page). Three
 * kinds cover the report: line charts (training curves, PR/F1 curves), heatmaps (confusion matrices) and grouped bars.
 * ECharts is imported on first use, so commands that never write a report do not load it.
 */
import type { EChartsOption } from "echarts";
import { esc } from "./html.js";
import { COLORS } from "./style.js";

type ECharts = typeof import("echarts");

/** Series colours: 20 distinguishable hues, enough for LLD's 14 classes plus "all". */
export const PALETTE = [
  "#2f5fb3",
  "#e8590c",
  "#2b8a3e",
  "#c2255c",
  "#7048e8",
  "#0c8599",
  "#a07c00",
  "#5c940d",
  "#d6336c",
  "#1971c2",
  "#862e9c",
  "#e67700",
  "#087f5b",
  "#495057",
  "#f03e3e",
  "#3b5bdb",
  "#9c36b5",
  "#74b816",
  "#b35c00",
  "#15aabf",
];

const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";

export interface LineSeries {
  name: string;
  /** [x, y] points; a non-finite y leaves a gap. */
  points: ReadonlyArray<readonly [number, number]>;
  /** Line width. @default 1.5 */
  width?: number;
  dashed?: boolean;
  color?: string;
}

export interface LineChartOptions {
  title: string;
  /** A sentence under the chart (what to read from it). */
  caption?: string;
  xName: string;
  yName?: string;
  series: readonly LineSeries[];
  /** Axis ranges; by default from the data. */
  x?: { min?: number; max?: number };
  y?: { min?: number; max?: number };
  /** "right" for many series (classes). @default "top" */
  legend?: "top" | "right";
  width?: number;
  height?: number;
}

export interface HeatmapOptions {
  title: string;
  caption?: string;
  xName: string;
  yName: string;
  xLabels: readonly string[];
  yLabels: readonly string[];
  /** counts[y][x]. */
  counts: readonly (readonly number[])[];
  /** Colour by the count's share of its column (true class) or row. @default "column" */
  normalise?: "column" | "row";
  width?: number;
  height?: number;
}

export interface BarChartOptions {
  title: string;
  caption?: string;
  categories: readonly string[];
  series: ReadonlyArray<{ name: string; values: readonly number[]; color?: string }>;
  yName?: string;
  y?: { min?: number; max?: number };
  /** Stack the series (counts of parts of a whole). @default false */
  stacked?: boolean;
  width?: number;
  height?: number;
}

const finite = (v: number) => Number.isFinite(v);

/** Renders ECharts options to SVG strings. */
export class ChartRenderer {
  constructor(readonly echarts: ECharts) {}

  /** One chart as a figure: the SVG, then the caption. */
  render(option: EChartsOption, width: number, height: number, name: string, caption?: string): string {
    const svg = this.svg(option, width, height);
    const cap = caption ? `<figcaption>${esc(caption)}</figcaption>` : "";
    return `<figure class="chart" data-chart="${esc(name)}">${svg}${cap}</figure>`;
  }

  /** One chart as a standalone SVG document's text. */
  svg(option: EChartsOption, width: number, height: number): string {
    const chart = this.echarts.init(null, null, { renderer: "svg", ssr: true, width, height });
    try {
      chart.setOption({ animation: false, textStyle: { fontFamily: FONT }, color: PALETTE, ...option });
      return chart.renderToSVGString();
    } finally {
      chart.dispose();
    }
  }

  line(o: LineChartOptions): string {
    const { option, width, height } = this.lineOption(o);
    return this.render(option, width, height, o.title, o.caption);
  }

  /** A line chart as a standalone SVG (for files outside a report, e.g. BENCHMARKS.md's figures). */
  lineSvg(o: LineChartOptions): string {
    const { option, width, height } = this.lineOption(o);
    return this.svg(option, width, height);
  }

  private lineOption(o: LineChartOptions): { option: EChartsOption; width: number; height: number } {
    const width = o.width ?? 340;
    const height = o.height ?? 240;
    const right = o.legend === "right";
    const series = o.series.map((s) => ({
      type: "line" as const,
      name: s.name,
      data: s.points.map(([x, y]) => [x, finite(y) ? y : null]),
      showSymbol: s.points.filter((p) => finite(p[1])).length === 1,
      symbolSize: 5,
      connectNulls: false,
      lineStyle: { width: s.width ?? 1.5, ...(s.dashed ? { type: "dashed" as const } : {}) },
      ...(s.color ? { itemStyle: { color: s.color } } : {}),
      emphasis: { disabled: true },
    }));
    const top = right ? 44 : 30 + 18 * Math.ceil(o.series.length / 2) + 8;
    const option: EChartsOption = {
      title: { text: o.title, left: 6, top: 4, textStyle: { fontSize: 13, fontWeight: 600, color: COLORS.ink } },
      legend: right
        ? {
            type: "plain",
            orient: "vertical",
            right: 4,
            top: 36,
            itemWidth: 14,
            itemHeight: 8,
            textStyle: { fontSize: 10 },
          }
        : { top: 26, left: 6, itemWidth: 14, itemHeight: 8, itemGap: 14, textStyle: { fontSize: 11 } },
      grid: { left: 52, right: right ? 196 : 16, top, bottom: 42 },
      xAxis: {
        type: "value",
        name: o.xName,
        nameLocation: "middle",
        nameGap: 26,
        min: o.x?.min ?? "dataMin",
        max: o.x?.max ?? "dataMax",
        splitLine: { show: false },
      },
      yAxis: {
        type: "value",
        ...(o.yName ? { name: o.yName, nameLocation: "middle" as const, nameGap: 40 } : {}),
        ...(o.y?.min !== undefined ? { min: o.y.min } : { scale: true }),
        ...(o.y?.max !== undefined ? { max: o.y.max } : {}),
      },
      series,
    };
    return { option, width, height };
  }

  heatmap(o: HeatmapOptions): string {
    const n = Math.max(o.xLabels.length, o.yLabels.length);
    const size = o.width ?? Math.min(760, Math.max(340, 160 + 34 * n));
    const height = o.height ?? Math.min(720, Math.max(300, 130 + 30 * n));
    const byColumn = (o.normalise ?? "column") === "column";
    const totals = byColumn
      ? o.xLabels.map((_, x) => o.counts.reduce((s, row) => s + (row[x] ?? 0), 0))
      : o.counts.map((row) => row.reduce((s, v) => s + v, 0));
    const data = o.counts.flatMap((row, y) =>
      row.map((c, x) => {
        const total = totals[byColumn ? x : y] ?? 0;
        return { value: [x, y, total > 0 ? c / total : 0], count: c };
      }),
    );
    const option: EChartsOption = {
      title: { text: o.title, left: 6, top: 4, textStyle: { fontSize: 13, fontWeight: 600, color: COLORS.ink } },
      grid: { left: 120, right: 70, top: 40, bottom: 92 },
      xAxis: {
        type: "category",
        data: [...o.xLabels],
        name: o.xName,
        nameLocation: "middle",
        nameGap: 76,
        axisLabel: { rotate: 40, fontSize: 10, interval: 0 },
        splitArea: { show: false },
      },
      yAxis: {
        type: "category",
        data: [...o.yLabels],
        name: o.yName,
        nameLocation: "middle",
        nameGap: 104,
        inverse: true,
        axisLabel: { fontSize: 10, interval: 0 },
      },
      visualMap: {
        min: 0,
        max: 1,
        calculable: false,
        orient: "vertical",
        right: 6,
        top: "middle",
        itemHeight: 120,
        text: ["1", "0"],
        textStyle: { fontSize: 10 },
        inRange: { color: ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"] },
      },
      series: [
        {
          type: "heatmap",
          data,
          label: {
            show: n <= 20,
            fontSize: n > 12 ? 8 : 10,
            formatter: (p) => {
              const c = (p.data as { count: number }).count;
              return c === 0 ? "" : String(c);
            },
          },
          emphasis: { disabled: true },
        },
      ],
    };
    return this.render(option, size, height, o.title, o.caption);
  }

  bars(o: BarChartOptions): string {
    const width = o.width ?? Math.min(900, Math.max(360, 120 + o.categories.length * (30 + 12 * o.series.length)));
    const height = o.height ?? 300;
    const option: EChartsOption = {
      title: { text: o.title, left: 6, top: 4, textStyle: { fontSize: 13, fontWeight: 600, color: COLORS.ink } },
      legend: { top: 26, left: 6, itemWidth: 14, itemHeight: 8, itemGap: 14, textStyle: { fontSize: 11 } },
      grid: { left: 52, right: 16, top: 60, bottom: 70 },
      xAxis: {
        type: "category",
        data: [...o.categories],
        axisLabel: { rotate: o.categories.length > 5 ? 30 : 0, fontSize: 10, interval: 0 },
      },
      yAxis: {
        type: "value",
        ...(o.yName ? { name: o.yName, nameLocation: "middle" as const, nameGap: 40 } : {}),
        ...(o.y?.min !== undefined ? { min: o.y.min } : {}),
        ...(o.y?.max !== undefined ? { max: o.y.max } : {}),
      },
      series: o.series.map((s) => ({
        type: "bar" as const,
        name: s.name,
        data: s.values.map((v) => (finite(v) ? v : null)),
        barMaxWidth: 48,
        ...(o.stacked ? { stack: "total" } : {}),
        ...(s.color ? { itemStyle: { color: s.color } } : {}),
        emphasis: { disabled: true },
      })),
    };
    return this.render(option, width, height, o.title, o.caption);
  }
}

/** Loads ECharts (first call only) and returns a renderer. */
export async function chartRenderer(): Promise<ChartRenderer> {
  return new ChartRenderer(await import("echarts"));
}
