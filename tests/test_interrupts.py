"""Ctrl-C stops the work at a safe point (model.interrupts): deferred while counting and training run,
raised again where TensorFlow drops it, and ended with one line and status 130 in a script."""

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
    for name, fresh in (("_ctrl_c_at", None), ("_raised", False), ("_deferring", 0)):
        monkeypatch.setattr(interrupts, name, fresh)
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)  # watch() wraps it: undone after the test
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a pytest-xdist worker may ignore SIGINT
    interrupts.watch()
    yield interrupts
    signal.signal(signal.SIGINT, before)


def ctrl_c():
    """A Ctrl-C to this process, its KeyboardInterrupt raised here (at the next bytecode boundaries)."""
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(1000):
        pass


def drop_a_ctrl_c():
    """What library code that catches and drops KeyboardInterrupt does with a Ctrl-C."""
    try:
        ctrl_c()
    except KeyboardInterrupt:
        return True
    return False


def test_tensorflow_drops_a_ctrl_c_that_comes_while_it_asks_isinstance(watching, monkeypatch):
    import tensorflow as tf

    reported = []  # what would be printed as "Exception ignored" (pytest hooks its own in: the hook set here)
    monkeypatch.setattr(sys, "unraisablehook", watching._unraisable_hook(reported.append))

    class ControlCWhenAsked:  # a Ctrl-C while TensorFlow's C++ nest.flatten checks what this is (in abc)
        asked = 0

        @property
        def __class__(self):
            ControlCWhenAsked.asked += 1
            if ControlCWhenAsked.asked == 1:
                ctrl_c()
            return ControlCWhenAsked

    try:
        outcome = tf.nest.flatten([ControlCWhenAsked(), 1])
    except BaseException as err:
        outcome = err
    # No KeyboardInterrupt comes out: TensorFlow dropped it, and either answered wrongly (the first item lost)
    # or raised a TypeError of its own, depending on what ran before in the process.
    assert outcome == [1] or isinstance(outcome, TypeError), outcome
    assert reported == []  # its "unraisable" SystemErrors (the first holds the Ctrl-C) are not printed
    with pytest.raises(KeyboardInterrupt):
        watching.stop_if_interrupted()
    sys.unraisablehook(type("Unraisable", (), {"exc_value": OSError("another problem")})())
    assert len(reported) == 1  # other unraisable problems are reported as before


def test_a_dropped_ctrl_c_is_raised_again_at_the_next_check(watching):
    watching.stop_if_interrupted()  # no Ctrl-C yet: nothing happens
    assert drop_a_ctrl_c()  # the Ctrl-C did raise KeyboardInterrupt where the main thread was
    with pytest.raises(KeyboardInterrupt):
        watching.stop_if_interrupted()
    assert watching._ctrl_c_at.startswith(__file__)  # where it was raised and dropped, for debugging


def test_inside_deferred_a_first_ctrl_c_waits_for_a_safe_point_and_a_second_raises_at_once(watching):
    with pytest.raises(KeyboardInterrupt):
        with watching.deferred():
            ctrl_c()  # nothing raised here: it waits
            assert watching.interrupted()
            with pytest.raises(KeyboardInterrupt):
                ctrl_c()  # a second Ctrl-C: at once, the way out where no safe point comes
    # ...and a Ctrl-C still waiting when the block ends is raised there (the outer pytest.raises)
    watching._ctrl_c_at = None
    with watching.deferred():
        ctrl_c()
        with pytest.raises(KeyboardInterrupt):
            watching.stop_if_interrupted()  # the next safe point
        watching._ctrl_c_at = None


def test_counting_stops_at_the_next_network_call_after_a_ctrl_c(watching, tmp_path):
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
    probabilities = detector.probabilities

    def score_with_a_ctrl_c_meanwhile(windows):  # Ctrl-C while the network runs the first batch
        scored.append(len(windows))
        result = probabilities(windows)
        if len(scored) == 1:
            ctrl_c()  # deferred: no KeyboardInterrupt inside TensorFlow
        return result

    detector.probabilities = score_with_a_ctrl_c_meanwhile
    with pytest.raises(KeyboardInterrupt):
        count_calls(detector, [audio, audio], progress=False)
    assert len(scored) == 2  # 2 x 469 windows in batches of 64: stopped as the second batch reached the network


def test_training_stops_after_the_batch_a_ctrl_c_came_in(watching, tmp_path, monkeypatch):
    from conftest import two_class_clips

    from data_pipeline.features.frontend import FrontendConfig
    from data_pipeline.labels.class_folders import clips_from_folders
    from model.learning import training
    from model.reporting import tensorboard_logging

    clips, classes = clips_from_folders(two_class_clips(tmp_path / "data", 16, seed=0))
    batches = []

    class CtrlCInTheFirstBatch(tensorboard_logging.TensorBoardExtras):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)
            if len(batches) == 1:
                ctrl_c()  # deferred: no KeyboardInterrupt inside TensorFlow

    monkeypatch.setattr(tensorboard_logging, "TensorBoardExtras", CtrlCInTheFirstBatch)
    config = training.TrainConfig(epochs=50, batch_size=4, verbose=0, negative_bank_per_kind=0, hard_negative_pool_per_kind=0)
    with pytest.raises(KeyboardInterrupt):
        training.train(clips, classes, tmp_path / "run", config, frontend=FrontendConfig())
    assert len(batches) == 1  # stopped at the end of the first batch, not after 50 epochs


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
        if {fail!r}:
            raise ValueError("library code failing on its half-done work")
        interrupts.stop_if_interrupted()
        print("went on")
        return 0

    cli.run(main)
""")


@pytest.mark.parametrize("ignored, fail", [(False, False), (False, True), (True, False)])
def test_a_script_stops_with_one_line_and_130_unless_ctrl_c_is_ignored(tmp_path, ignored, fail):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(root=str(ROOT), fail=fail))

    def start_with_sigint(handler):
        return lambda: signal.signal(signal.SIGINT, handler)

    # A job a shell script starts in the background ignores Ctrl-C; the script must keep it so.
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          preexec_fn=start_with_sigint(signal.SIG_IGN if ignored else signal.SIG_DFL))
    if ignored:
        assert (proc.returncode, proc.stdout) == (0, "went on\n"), proc.stderr
    else:  # also where something failed after the dropped Ctrl-C: not "error: ...", status 2
        assert (proc.returncode, proc.stdout, proc.stderr) == (130, "", "interrupted; no output was left half-written\n")
