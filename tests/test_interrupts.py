"""A Ctrl-C dropped by library code still stops the work (model.interrupts), in a script and in counting."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def watching(monkeypatch):
    """model.interrupts watching in this process, as in a script; SIGINT's handler restored after."""
    from model import interrupts

    before = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(interrupts, "_raised_at", None)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a pytest-xdist worker may ignore SIGINT
    interrupts.watch()
    yield interrupts
    signal.signal(signal.SIGINT, before)


def drop_a_ctrl_c():
    """What library code that catches and drops KeyboardInterrupt does with a Ctrl-C."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs at the next bytecode boundaries
            pass
    except KeyboardInterrupt:
        return True
    return False


def test_a_dropped_ctrl_c_is_raised_again_at_the_next_check(watching):
    watching.stop_if_interrupted()  # no Ctrl-C yet: nothing happens
    assert drop_a_ctrl_c()  # the Ctrl-C did raise KeyboardInterrupt where the main thread was
    with pytest.raises(KeyboardInterrupt):
        watching.stop_if_interrupted()
    assert watching._raised_at.startswith(__file__)  # where it was raised and dropped, for debugging


def test_counting_stops_at_the_next_batch_after_a_dropped_ctrl_c(watching, tmp_path):
    import keras

    from data_pipeline.features.frontend import FrontendConfig
    from model.detection.counting import count_calls
    from model.detection.detector import Detector
    from model.learning.networks import build_model

    fe = FrontendConfig()
    keras.utils.set_random_seed(0)
    detector = Detector(build_model("compact", fe.input_shape, 2, frontend=fe), fe, ["no_call", "call"])
    audio = tmp_path / "long.wav"
    import soundfile as sf

    sf.write(audio, 0.1 * np.random.default_rng(0).standard_normal(16000 * 120).astype(np.float32), 16000)
    scored = []
    score = detector.score

    def score_and_drop_a_ctrl_c(windows):  # TensorFlow dropping the Ctrl-C that came while it ran
        scored.append(len(windows))
        if len(scored) == 1:
            assert drop_a_ctrl_c()
        return score(windows)

    detector.score = score_and_drop_a_ctrl_c
    with pytest.raises(KeyboardInterrupt):
        count_calls(detector, [audio, audio], progress=False)
    assert len(scored) == 1  # 2 x 469 windows in batches of 64: stopped at the second batch


SCRIPT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from model import cli, interrupts

    def main():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass
        except KeyboardInterrupt:
            pass  # dropped, as library code may
        interrupts.stop_if_interrupted()
        print("went on")
        return 0

    cli.run(main)
""")


@pytest.mark.parametrize("ignored", [False, True])
def test_a_script_stops_with_one_line_and_130_unless_ctrl_c_is_ignored(tmp_path, ignored):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(root=str(ROOT)))

    def start_with_sigint(handler):
        return lambda: signal.signal(signal.SIGINT, handler)

    # A job a shell script starts in the background ignores Ctrl-C; the script must keep it so.
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          preexec_fn=start_with_sigint(signal.SIG_IGN if ignored else signal.SIG_DFL))
    if ignored:
        assert (proc.returncode, proc.stdout) == (0, "went on\n"), proc.stderr
    else:
        assert (proc.returncode, proc.stdout, proc.stderr) == (130, "", "interrupted; no output was left half-written\n")
