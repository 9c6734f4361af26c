/**
 * The epoch-time benchmark (issue 23 item 4) reads each tool's own progress bar: excerpts of real logs, sladet's bar and
 * YOLOv5 v7.0's train.py bar (its own tqdm format, redrawn with carriage returns), give each epoch's training seconds.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sladetEpochSeconds, ultralyticsEpochSeconds } from "../../bench/yolov5-parity/epoch-time.js";

test("sladet: the elapsed seconds at each epoch's last batch", () => {
  const log = [
    "epoch 23/100 12/13 92% [41.2s<3.4s, 0.29 it/s",
    "epoch 23/100 13/13 100% [45.7s<0.0s, 0.28 it/s, box 0.05",
    "val 87/87 100% [20.1s<0.0s, 4.3 img/s]",
    "epoch 24/100 13/13 100% [34.8s<0.0s, 0.37 it/s",
  ].join("\n");
  assert.deepEqual(sladetEpochSeconds(log), [45.7, 34.8]);
});

test("Ultralytics v7.0: the last redraw of each epoch's final batch, minutes and hours read", () => {
  const row = (epoch: number, n: number, elapsed: string) =>
    `       ${epoch}/99         0G     0.1031     0.1756    0.03705        336        640: 100%|██████████| ${n}/13 ${elapsed}`;
  const log = [
    row(0, 12, "00:33"),
    row(0, 13, "00:35"),
    row(0, 13, "00:36"),
    "                 Class     Images  Instances          P          R      mAP50   mAP50-95: 100%|██████████| 3/3 00:09",
    row(1, 13, "01:02"),
    row(2, 13, "1:00:05"),
  ].join("\r");
  assert.deepEqual(ultralyticsEpochSeconds(log), [36, 62, 3605]);
});

test("Ultralytics: tqdm's default bar format is read as well", () => {
  const log = "  3/4  0G  0.1181  0.2  0.03  300  640: 100%|██████████| 13/13 [00:26<00:00, 2.01s/it]";
  assert.deepEqual(ultralyticsEpochSeconds(log), [26]);
});
