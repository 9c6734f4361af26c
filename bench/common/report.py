"""The PyTorch benchmark children's result line, in the format bench/common/compare.ts reads (RunResult)."""
import json

import torch


def report(times):
    """Prints one JSON line: step times (ms) after warmup, peak RSS (VmHWM) and the thread count."""
    rss_kib = [line for line in open("/proc/self/status") if line.startswith("VmHWM")][0].split()[1]
    print(json.dumps({"engine": "pytorch", "times": times, "peakRssMiB": int(rss_kib) / 1024, "threads": torch.get_num_threads()}))
