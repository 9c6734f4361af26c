#!/bin/bash
# The sparse-label ablation of issue 26 (item 2): arms a b c d (bench/sparse/finetune-arm.sh) × seeds from one phase-1
# checkpoint, PARALLEL (default 2) runs at a time at one thread each, then the tables (bench/sparse/summary.ts).
# Finished runs are kept: rerunning continues an interrupted ablation. Run from the package root (bin/sladet built,
# dist/ compiled); phase 1 is trained beforehand (BENCHMARKS.md has the command):
#
#   bench/sparse/finetune.sh OUT SPARSE_YAML DENSE_YAML P1_WEIGHTS EPOCHS IMGSZ BATCH HYP "ARMS" "SEEDS"
set -eu
OUT=$1 SPARSE=$2 DENSE=$3 P1=$4 EPOCHS=$5 IMGSZ=$6 BATCH=$7 HYP=$8 ARMS=$9 SEEDS=${10}
mkdir -p "$OUT"
running=0
for s in $SEEDS; do
  for a in $ARMS; do
    [ -f "$OUT/runs/test/$a-s$s/metrics.json" ] && continue
    SLADET_THREADS=1 bash bench/sparse/finetune-arm.sh "$a" "$s" "$OUT" "$SPARSE" "$DENSE" "$P1" "$EPOCHS" "$IMGSZ" \
      "$BATCH" "$HYP" > "$OUT/$a-s$s.log" 2>&1 &
    running=$((running + 1))
    if [ $running -ge "${PARALLEL:-2}" ]; then
      wait -n || echo "a run failed: see its log in $OUT" >&2 # the others go on
      running=$((running - 1))
    fi
  done
done
wait || true
bin/sladet-node dist/bench/sparse/summary.js "$OUT"
