/** Set to "1" by bench/detect/run.ts --prefetch: sladet-detect.ts then runs runDetect's default decode overlap. */
export const PREFETCH_ENV = "SLADET_BENCH_DETECT_PREFETCH";
