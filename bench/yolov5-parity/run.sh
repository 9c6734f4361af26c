#!/bin/sh
# Training parity with Ultralytics YOLOv5 v7.0 (issue 23), one step: the same initial weights, batch, loss, parameter
# groups, warm-up SGD step with clipping and EMA update in YOLOv5 (its own code, /tmp/yolov5, run offline as
# ../shared/tools/ultralytics/README.md says) and in sladet; prints both sides. Needs BCCD converted to LLD
# (bench/bccd/run.sh's convert step). Run from the package root:
#
#   bench/yolov5-parity/run.sh [BCCD_LLD=/tmp/sladet-bccd/lld] [YOLOV5=/tmp/yolov5] [OUT=/tmp/yolov5-parity]
set -eu
export BCCD_LLD=$(realpath "${1:-/tmp/sladet-bccd/lld}") YOLOV5=${2:-/tmp/yolov5} OUT=${3:-/tmp/yolov5-parity}
here=$(pwd)
(cd "$YOLOV5" && /usr/bin/python3 "$here/bench/yolov5-parity/yolo_side.py" | grep -v "^ \|^$\|summary\|from  n")
bin/sladet-node bench/yolov5-parity/sladet_side.mjs
