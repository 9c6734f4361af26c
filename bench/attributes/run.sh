#!/bin/sh
# Attribute benchmark (issues 10 and 25): a synthetic set (14 classes, 7 attributes) at IMGSZ (LLD's 640 by default),
# YOLOv5n trained from scratch with the attribute head (`sladet pretrain --attributes`, the seed's hyp without focal
# loss, sladet's attribute defaults: DEFAULT_ATTRIBUTE_HYP in src/train/attribute-hyp.ts; at 640 px attr_grid 0 gives
# the head a 48×60 grid), one run per seed, then
# `sladet test` on each run's weights/best_attr (the epoch with the best validation attribute mean F1) and
# weights/best, and a summary against issue 25's goals (mean binary F1 ≥ 0.85, Cell Size accuracy ≥ 0.90, every
# balanced accuracy ≥ 0.80; detection mAP50 beside them). Run from the package root (bin/sladet built, dist/ compiled):
#
#   [HYP=bench/attributes/hyp.yaml] bench/attributes/run.sh [EPOCHS=60] [OUT=/tmp/sladet-attributes] [LAMBDA=0] \
#     [IMGSZ=640] [IMAGES=600] [SEEDS="0 1"] [BATCH=16]
#
# HYP (environment) picks the hyperparameter file; a file other than hyp.yaml adds its name to the run's name
# (hyp.low-aug.yaml: YOLOv5n's own scale 0.5 and no mixup).
#
# The data is generated once (seed 0); SEEDS are the training seeds. Per-attribute F1 and balanced accuracy are in the
# test runs' metrics.json, printed tables and the closing summary (dist/bench/attributes/summary.js).
set -eu
EPOCHS=${1:-60}
OUT=${2:-/tmp/sladet-attributes}
LAMBDA=${3:-0}
IMGSZ=${4:-640}
IMAGES=${5:-600}
SEEDS=${6:-"0 1"}
BATCH=${7:-16}
HYP=${HYP:-bench/attributes/hyp.yaml}
DATA="$OUT/data-$IMAGES-$IMGSZ"
TAG=$(basename "$HYP" .yaml | sed -e 's/^hyp//' -e 's/^[.-]//')
TAG=${TAG:+-$TAG}
[ -f "$DATA/data.yaml" ] || bin/sladet synth --out "$DATA" --images "$IMAGES" --imgsz "$IMGSZ" --seed 0 --quiet --force
for SEED in $SEEDS; do
  NAME=attr-v5n-$IMGSZ-e$EPOCHS-l$LAMBDA$TAG-s$SEED
  start=$(date +%s)
  bin/sladet pretrain --data "$DATA/data.yaml" --cfg yolov5n --epochs "$EPOCHS" --batch-size "$BATCH" --imgsz "$IMGSZ" \
    --hyp "$HYP" --attributes --attr-lambda "$LAMBDA" --cache ram --seed "$SEED" \
    --project "$OUT/runs/pretrain" --name "$NAME" --exist-ok
  end=$(date +%s)
  for w in best_attr best; do
    bin/sladet test --data "$DATA/data.yaml" --weights "$OUT/runs/pretrain/$NAME/weights/$w.safetensors" \
      --imgsz "$IMGSZ" --project "$OUT/runs/test" --name "$NAME-$w" --exist-ok
  done
  echo "seed $SEED: pretrain $EPOCHS epochs in $((end - start)) s ($(( (end - start) / EPOCHS )) s/epoch, validation included)"
done
bin/sladet-node dist/bench/attributes/summary.js "$OUT/runs/test"
