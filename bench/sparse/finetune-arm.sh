#!/bin/sh
# One run of the sparse-label ablation as issue 26 defines it: every arm is `sladet train` (phase 2 as a fine-tune)
# from the same phase-1 weights with the same hyp, epochs and schedule; only this differs:
#   a = naive: --ignore-regions (the unlabelled area is background), pseudo-labels off
#   b = region-masked loss only: pseudo-labels off (pl_precision 0, pl_conf 1, pl_dense 0)
#   c = sladet's phase 2: HYP as it is (calibrated pseudo-labels from the EMA teacher, similarity loss)
#   d = full labels: DENSE_YAML (the same images fully labelled), pseudo-labels off
# then `sladet test` on DENSE_YAML's fully labelled test split with weights/best (chosen by the labelled-region val
# fitness) into OUT/runs/test-best/ARM-sSEED and weights/last into OUT/runs/test/ARM-sSEED.
#
#   bench/sparse/finetune-arm.sh ARM SEED OUT SPARSE_YAML DENSE_YAML P1_WEIGHTS EPOCHS IMGSZ BATCH HYP
set -eu
ARM=$1 SEED=$2 OUT=$3 SPARSE=$4 DENSE=$5 P1=$6 EPOCHS=$7 IMGSZ=$8 BATCH=$9 HYP=${10}
NAME=$ARM-s$SEED
NOPL="$OUT/hyp-nopl.yaml"
# HYP with the pseudo-labels off (a threshold no prediction reaches, no calibration, no dense targets)
{ grep -v '^pl_precision:\|^pl_conf:\|^pl_dense:' "$HYP"; printf 'pl_precision: 0\npl_conf: 1\npl_dense: 0\n'; } > "$NOPL.$NAME"
common="--weights $P1 --epochs $EPOCHS --imgsz $IMGSZ --batch-size $BATCH --seed $SEED --cache ram --exist-ok"
run="--project $OUT/runs/phase2 --name $NAME"
case $ARM in
  a) bin/sladet train --data "$SPARSE" --hyp "$NOPL.$NAME" --ignore-regions $common $run ;;
  b) bin/sladet train --data "$SPARSE" --hyp "$NOPL.$NAME" $common $run ;;
  c) bin/sladet train --data "$SPARSE" --hyp "$HYP" $common $run ;;
  d) bin/sladet train --data "$DENSE" --hyp "$NOPL.$NAME" $common $run ;;
  *) echo "unknown arm $ARM (a, b, c or d)" >&2; exit 2 ;;
esac
rm -f "$NOPL.$NAME"
for w in best last; do
  dir=test; [ "$w" = best ] && dir=test-best
  bin/sladet test --data "$DENSE" --weights "$OUT/runs/phase2/$NAME/weights/$w.safetensors" --imgsz "$IMGSZ" \
    --project "$OUT/runs/$dir" --name "$NAME" --exist-ok
done
