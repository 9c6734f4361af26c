#!/bin/sh
# One run of the sparse-label ablation (issue 11): phase 2 from the phase-1 weights under one condition, then
# `sladet test` on its weights/last (the val split is sparse, so "best" would be chosen on misleading numbers).
#
#   bench/sparse/condition.sh COND SEED OUT SPARSE_YAML DENSE_YAML P1_WEIGHTS EPOCHS IMGSZ BATCH [ATTR]
#
# COND: a = naive (sladet pretrain --ignore-regions: unlabelled area = background)
#       b = region-masked only (sladet pretrain)
#       c = full SLA (sladet train, our defaults: EMA proposer, calibrated threshold)
#       c-student = c with the student as proposer; c-p95 = c calibrated to precision 0.95 instead of 0.8;
#       c-seed = the seed's phase 2 (--seed-sla, fixed 0.95)
#       d = full labels (sladet pretrain on DENSE_YAML), the ceiling
# Every condition uses bench/sparse/hyp.phase2.yaml (c-seed: hyp.phase2-seed.yaml, the later --hyp wins).
# ATTR=1 adds --attributes to a, b and d (sladet train trains the head whenever the data has attribute columns).
set -eu
COND=$1 SEED=$2 OUT=$3 SPARSE=$4 DENSE=$5 P1=$6 EPOCHS=$7 IMGSZ=$8 BATCH=$9
ATTR=${10:-0}
NAME=$COND-s$SEED
attr=""
[ "$ATTR" = 1 ] && attr="--attributes"
common="--hyp bench/sparse/hyp.phase2.yaml --weights $P1 --epochs $EPOCHS --imgsz $IMGSZ --batch-size $BATCH --seed $SEED --cache ram --exist-ok --name $NAME"
case $COND in
  a) bin/sladet pretrain --data "$SPARSE" $common $attr --ignore-regions --project "$OUT/runs/phase2" ;;
  b) bin/sladet pretrain --data "$SPARSE" $common $attr --project "$OUT/runs/phase2" ;;
  c) bin/sladet train --data "$SPARSE" $common --project "$OUT/runs/phase2" ;;
  c-student) bin/sladet train --data "$SPARSE" $common --pl-proposer student --project "$OUT/runs/phase2" ;;
  c-p95) bin/sladet train --data "$SPARSE" $common --hyp bench/sparse/hyp.phase2-p95.yaml --project "$OUT/runs/phase2" ;;
  c-seed) bin/sladet train --data "$SPARSE" $common --seed-sla --hyp bench/sparse/hyp.phase2-seed.yaml --project "$OUT/runs/phase2" ;;
  d) bin/sladet pretrain --data "$DENSE" $common $attr --project "$OUT/runs/phase2" ;;
  *) echo "unknown condition $COND" >&2; exit 2 ;;
esac
bin/sladet test --data "$DENSE" --weights "$OUT/runs/phase2/$NAME/weights/last.safetensors" --imgsz "$IMGSZ" \
  --project "$OUT/runs/test" --name "$NAME" --exist-ok
