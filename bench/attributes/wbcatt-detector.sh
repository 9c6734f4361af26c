#!/bin/sh
# Issue 25 item 3 with a detector: YOLOv5n and the attribute head trained together on WBCAtt (`sladet convert --from
# wbcatt`, docs/wbcatt.md) from scratch, with and without `attr_class` (the head given each cell's class: the label's
# in training, the detector's own prediction in `sladet test`), then `sladet test` on the test split with
# weights/best_attr and weights/best. Both runs go side by side at one thread each. YOLOv5n's recipe (hyp.low-aug.yaml:
# the seed's hyp without focal loss, scale 0.5, no mixup) plus `attr_class`. Run from the package root (bin/sladet
# built, dist/ compiled):
#
#   bench/attributes/wbcatt-detector.sh DATA_YAML OUT [EPOCHS=12] [IMGSZ=192] [SEED=0] [BATCH=16] [CLASSES="0 1"] [SCALE=1]
#
# CLASSES: the attr_class arms to run ("0": pixels only). Several seeds of one arm side by side: run the script once a
# seed, in the background, with CLASSES="0". SCALE: attr_image_scale (the head pools a fine view at SCALE× the
# network input; 2 gives WBCAtt's 360–366 px crops at 192 px their own resolution); runs with SCALE > 1 are named
# …-fineSCALE-…. Threads: SLADET_THREADS (default 1 a run, for two runs side by side on 2 cores).
set -eu
DATA=$1 OUT=$2 EPOCHS=${3:-12} IMGSZ=${4:-192} SEED=${5:-0} BATCH=${6:-16} CLASSES=${7:-"0 1"} SCALE=${8:-1}
THREADS=${SLADET_THREADS:-1}
FINE=""
[ "$SCALE" = 1 ] || FINE="-fine$SCALE"
mkdir -p "$OUT"
for c in $CLASSES; do
  NAME=v5n-$IMGSZ-e$EPOCHS-class$c$FINE-s$SEED
  HYP="$OUT/hyp-class$c$FINE.yaml"
  { cat bench/attributes/hyp.low-aug.yaml; printf 'attr_class: %s\nattr_image_scale: %s\n' "$c" "$SCALE"; } > "$HYP"
  (
    SLADET_THREADS=$THREADS bin/sladet pretrain --data "$DATA" --cfg yolov5n --epochs "$EPOCHS" --batch-size "$BATCH" \
      --imgsz "$IMGSZ" --hyp "$HYP" --attributes --cache ram --seed "$SEED" --project "$OUT/runs/pretrain" \
      --name "$NAME" --exist-ok
    for w in best_attr best; do
      SLADET_THREADS=$THREADS bin/sladet test --data "$DATA" --weights "$OUT/runs/pretrain/$NAME/weights/$w.safetensors" \
        --imgsz "$IMGSZ" --project "$OUT/runs/test" --name "$NAME-$w" --exist-ok
    done
  ) > "$OUT/$NAME.log" 2>&1 &
done
wait
