#!/bin/sh
# BCCD benchmark (issue 9): convert the VOC dataset with its official ImageSets lists, train YOLOv5n from scratch at
# 640 with `sladet pretrain` (the seed's hyp: hyp.scratch-high with fl_gamma 1.5), then `sladet val --task test` on the
# run's best weights. Run from the package root (bin/sladet built, dist/ compiled):
#
#   bench/bccd/run.sh [EPOCHS=100] [BCCD=../shared/data/bccd/BCCD] [OUT=/tmp/sladet-bccd]
#
# Writes the converted dataset to OUT/lld, the training run to OUT/runs/pretrain/bccd-v5n-eEPOCHS and the test
# validation to OUT/runs/val/bccd-v5n-eEPOCHS-test; prints seconds per epoch at the end.
set -eu
EPOCHS=${1:-100}
BCCD=${2:-../shared/data/bccd/BCCD}
OUT=${3:-/tmp/sladet-bccd}
NAME=bccd-v5n-e$EPOCHS
rm -rf "$OUT/lld"
bin/sladet convert --from voc --to lld --src "$BCCD" --out "$OUT/lld" --names RBC,WBC,Platelets
start=$(date +%s)
bin/sladet pretrain --data "$OUT/lld/data.yaml" --cfg yolov5n --epochs "$EPOCHS" --batch-size 16 --imgsz 640 \
  --cache ram --seed 0 --project "$OUT/runs/pretrain" --name "$NAME" --exist-ok
end=$(date +%s)
bin/sladet val --data "$OUT/lld/data.yaml" --weights "$OUT/runs/pretrain/$NAME/weights/best.safetensors" --task test \
  --imgsz 640 --project "$OUT/runs/val" --name "$NAME-test" --exist-ok
echo "pretrain: $EPOCHS epochs in $((end - start)) s ($(( (end - start) / EPOCHS )) s/epoch, validation included)"
