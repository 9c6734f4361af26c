#!/bin/bash
# The sparse-label ablation (issue 11) on one dataset: phase 1 on the sparse labels only, then the same number of
# phase-2 epochs under each condition (bench/sparse/condition.sh) and seed, PARALLEL (default 2) runs at a time at one
# thread each,
# then the table (bench/sparse/summary.ts). Run from the package root (bin/sladet built, dist/ compiled):
#
#   bench/sparse/run.sh OUT SPARSE_YAML DENSE_YAML P1_EPOCHS P2_EPOCHS IMGSZ BATCH "CONDITIONS" "SEEDS" [ATTR=0]
#
# e.g. BCCD sparsified to 20 % of the area (sladet sparsify keeps the removed labels in labels_heldout/):
#   bin/sladet convert --from voc --to lld --src ../shared/data/bccd/BCCD --out /tmp/abl/bccd-dense --names RBC,WBC,Platelets
#   bin/sladet sparsify --data /tmp/abl/bccd-dense/data.yaml --out /tmp/abl/bccd-sparse --area 0.2 --link
#   bench/sparse/run.sh /tmp/abl/bccd /tmp/abl/bccd-sparse/data.yaml /tmp/abl/bccd-dense/data.yaml 40 15 320 16 "a b c c-seed d" "1 2"
set -eu
OUT=$1 SPARSE=$2 DENSE=$3 P1E=$4 P2E=$5 IMGSZ=$6 BATCH=$7 CONDS=$8 SEEDS=$9
ATTR=${10:-0}
attr=""
[ "$ATTR" = 1 ] && attr="--attributes"
P1="$OUT/runs/phase1/p1/weights/last.safetensors"
if [ ! -f "$P1" ]; then
  bin/sladet pretrain --data "$SPARSE" --cfg yolov5n --epochs "$P1E" --imgsz "$IMGSZ" --batch-size "$BATCH" --seed 0 \
    --cache ram $attr --project "$OUT/runs/phase1" --name p1 --exist-ok
fi
jobs=""
for s in $SEEDS; do
  for c in $CONDS; do
    # finished runs are kept: rerunning the script continues an interrupted ablation
    [ -f "$OUT/runs/test/$c-s$s/metrics.json" ] || jobs="$jobs $c:$s"
  done
done
running=0
for j in $jobs; do
  c=${j%%:*} s=${j##*:}
  SLADET_THREADS=1 bash bench/sparse/condition.sh "$c" "$s" "$OUT" "$SPARSE" "$DENSE" "$P1" "$P2E" "$IMGSZ" "$BATCH" "$ATTR" \
    > "$OUT/$c-s$s.log" 2>&1 &
  running=$((running + 1))
  if [ $running -ge "${PARALLEL:-2}" ]; then
    wait -n || echo "a run failed: see its log in $OUT" >&2 # the others go on
    running=$((running - 1))
  fi
done
wait || true
bin/sladet-node dist/bench/sparse/summary.js "$OUT"
