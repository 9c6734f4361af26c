"""Makes an unpacked Ultralytics YOLOv5 v7.0 tree importable offline (dev tool for the YOLOv5 oracles; YOLOv5 is AGPL:
the oracles import and run it, they copy none of it): no auto-install, and a font in its config folder, since
check_dataset()/check_font() download Arial.ttf otherwise (any TTF will do, as in ../shared/tools/ultralytics/env.sh)."""
import os
import shutil
import sys
import tempfile

FONT_SOURCE = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def use_yolov5(path):
    """Puts the YOLOv5 tree at `path` first on sys.path, offline; returns its absolute path."""
    os.environ.setdefault("YOLOv5_AUTOINSTALL", "False")
    os.environ.setdefault("YOLOV5_CONFIG_DIR", tempfile.mkdtemp(prefix="yolov5-config-"))
    font = os.path.join(os.environ["YOLOV5_CONFIG_DIR"], "Arial.ttf")
    if not os.path.exists(font):
        shutil.copy(FONT_SOURCE, font)
    path = os.path.abspath(path)
    sys.path.insert(0, path)
    return path
