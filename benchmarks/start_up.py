"""Where counting's start-up goes: each phase before and of the first recordings, timed in one process.

    .venv/bin/python benchmarks/start_up.py --model RUN [--recordings A.mp3 B.mp3] [--plain-keras]

Phases, in the order count_calls.py meets them: importing TensorFlow and Keras (as the scripts start it,
without scikit-learn and matplotlib: model.cli.KerasWithoutExtras; --plain-keras imports them as Keras alone
would), the project's modules, loading the model, counting the first recording (its network call traced then),
and counting a second one (what every later recording costs). Run it in a fresh process each time: a phase is
only paid once per process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
SHARED_FOREST = Path(__file__).resolve().parents[2] / "shared" / "forest"


def main() -> None:
    start = time.perf_counter()
    from model import cli

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a trained run folder")
    p.add_argument("--recordings", nargs=2, default=[SHARED_FOREST / "recording_00.mp3", SHARED_FOREST / "recording_01.mp3"])
    p.add_argument("--plain-keras", action="store_true", help="let Keras import scikit-learn and matplotlib, as before")
    args = p.parse_args()
    if args.plain_keras:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, cli.KerasWithoutExtras)]

    phases = {}

    def phase(name):
        now = time.perf_counter()
        phases[name] = now - phase.last
        phase.last = now

    phase.last = start
    import keras  # noqa: F401  (TensorFlow with it)

    phase("import TensorFlow + Keras")
    from model.detection.counting import count_calls
    from model.detection.detector import Detector

    phase("import the project")
    detector = Detector.load(args.model)
    phase("load the model")
    for i, recording in enumerate(args.recordings):
        count_calls(detector, [Path(recording)], progress=False)
        phase("count the first recording" if i == 0 else "count a second recording")
    print(f"{'sklearn' in sys.modules=} {'matplotlib' in sys.modules=}")
    for name, seconds in phases.items():
        print(f"{name:28s} {seconds:6.2f} s")
    print(f"{'total':28s} {sum(phases.values()):6.2f} s")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
