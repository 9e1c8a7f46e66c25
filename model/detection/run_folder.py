"""Where a trained run folder is and what its detector.json says, without TensorFlow or pandas.

`count_calls.py` reads the saved front end before it imports anything heavy, so its start-up decoder
(data_pipeline.audio.startup_decoding) can begin while TensorFlow loads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from data_pipeline.features.frontend import FrontendConfig

MODEL_FILE = "model.keras"
DETECTOR_FILE = "detector.json"


def saved_frontend(run_dir: str | os.PathLike) -> FrontendConfig | None:
    """The front end saved in a run folder's detector.json, read without TensorFlow (None where it cannot be
    read: `Detector.load` says what is wrong)."""
    try:
        return FrontendConfig.from_dict(json.loads((run_folder(run_dir) / DETECTOR_FILE).read_text())["frontend"])
    except (AttributeError, OSError, KeyError, TypeError, ValueError):
        return None


def run_folder(path: str | os.PathLike) -> Path:
    """The run folder meant by `path`: the folder itself, or the folder of its model.keras or detector.json."""
    path = Path(path)
    return path.parent if path.is_file() and path.name in (MODEL_FILE, DETECTOR_FILE) else path


def trained_run_folder(path: str | os.PathLike) -> Path:
    """The run folder meant by `path`, checked to hold a trained detector: one line naming what is missing where
    it does not, before anything heavy is imported (a mistyped --model answers at once)."""
    run_dir = run_folder(path)
    if not run_dir.exists():
        raise FileNotFoundError(f"{run_dir}: no such folder (--model takes a run folder written by train.py)")
    for name in (MODEL_FILE, DETECTOR_FILE):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir}: not a trained run folder (no {name}); train one with `python train.py`")
    return run_dir


def latest_run(runs_dir: str | os.PathLike = "runs") -> Path:
    """The most recently written run folder under `runs_dir` that holds a trained detector."""
    runs = [p.parent for p in Path(runs_dir).glob(f"*/{DETECTOR_FILE}")]
    if not runs:
        demo = Path("demo/run")
        also = f" (`make demo` trained one: --model {demo})" if (demo / DETECTOR_FILE).is_file() else ""
        raise FileNotFoundError(f"no trained model under {runs_dir}/; run `python train.py` first or pass --model RUN_DIR{also}")
    return max(runs, key=lambda p: (p / DETECTOR_FILE).stat().st_mtime)
