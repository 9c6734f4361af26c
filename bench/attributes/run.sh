#!/bin/sh
# Attribute benchmark (issue 10): a 600-image synthetic set (14 classes, 7 attributes) at 320 px, YOLOv5n trained from
# scratch with the attribute head (`sladet pretrain --attributes`, the seed's hyp without focal loss), then
# `sladet test` on the run's weights/best_attr (the epoch with the best attribute mean F1) and weights/best.
# Run from the package root (bin/sladet built, dist/ compiled):
#
#   bench/attributes/run.sh [EPOCHS=60] [OUT=/tmp/sladet-attributes] [LAMBDA=0]
#
# Per-attribute F1 and balanced accuracy are in the test runs' metrics.json and printed tables.
set -eu
EPOCHS=${1:-60}
OUT=${2:-/tmp/sladet-attributes}
LAMBDA=${3:-0}
NAME=attr-v5n-e$EPOCHS-l$LAMBDA
bin/sladet synth --out "$OUT/data" --images 600 --imgsz 320 --seed 0 --quiet --force
start=$(date +%s)
bin/sladet pretrain --data "$OUT/data/data.yaml" --cfg yolov5n --epochs "$EPOCHS" --batch-size 16 --imgsz 320 \
  --hyp bench/attributes/hyp.yaml --attributes --attr-lambda "$LAMBDA" --cache ram --seed 0 \
  --project "$OUT/runs/pretrain" --name "$NAME" --exist-ok
end=$(date +%s)
for w in best_attr best; do
  bin/sladet test --data "$OUT/data/data.yaml" --weights "$OUT/runs/pretrain/$NAME/weights/$w.safetensors" \
    --imgsz 320 --project "$OUT/runs/test" --name "$NAME-$w" --exist-ok
done
echo "pretrain: $EPOCHS epochs in $((end - start)) s ($(( (end - start) / EPOCHS )) s/epoch, validation included)"
