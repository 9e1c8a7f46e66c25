"""benchmarks/rescore_counting.py: saved window scores merged again under other minimum and maximum call lengths.

The shared network's minimum call (2.0 s, then 1.5 s) was chosen from this script's figures, so a run of known
length must be kept or dropped exactly as the minimum (and the maximum) says, and calls in unlabelled recordings counted
as false calls. benchmarks/counting_tuning_speed.py, from the same saved scores, must find the tuner and the
table path agreeing on every setting.
"""

import json
import pickle

import numpy as np
from conftest import run_script

from model.detection.counting import RecordingScores
from model.detection.events import CountingConfig

WINDOW_S, HOP_S = 3.0, 0.25


def scores_with_runs(name: str, runs: list[tuple[float, int]], seconds: float = 60.0) -> RecordingScores:
    """Window scores of a recording: 1.0 for `n` windows from each centre `first`, 0 elsewhere."""
    starts = np.arange(0.0, seconds - WINDOW_S + 1e-9, HOP_S)
    scores = np.zeros(len(starts))
    for first, n in runs:
        i = int(round((first - WINDOW_S / 2) / HOP_S))
        scores[i: i + n] = 1.0
    return RecordingScores(name, starts, scores, seconds)


def test_rescoring_keeps_or_drops_a_run_as_the_minimum_and_maximum_call_say(tmp_path):
    forest = tmp_path / "shared" / "forest"
    forest.mkdir(parents=True)
    (forest / "calls.csv").write_text("recording,start,end,confidence\n"
                                      "recording_a.mp3,10.0,14.0,sure\nrecording_b.mp3,30.0,35.0,sure\n")
    fold = tmp_path / "runs" / "setting" / "fold0"
    fold.mkdir(parents=True)
    (fold / "detector.json").write_text(json.dumps({"counting": CountingConfig().to_dict(),
                                                    "frontend": {"clip_s": WINDOW_S}}))
    saved = {"clean": [scores_with_runs("recording_a.mp3", [(10.5, 9)]),  # a 2.25 s run inside a call
                       scores_with_runs("recording_b.mp3", [(30.5, 17)]),  # 4.25 s, always a call
                       scores_with_runs("e00001.wav", [(20.0, 9)]),  # no labels: a false call when counted
                       scores_with_runs("e00002.wav", [(20.0, 40)])]}  # 10 s: longer than a call, unless no limit
    with open(fold / "window_scores.pkl", "wb") as f:
        pickle.dump(saved, f)

    done = run_script("benchmarks/rescore_counting.py", fold.parent, "--min-call-s", "1.9", "2.4", "--max-call-s", "0", "8",
                      "--shared", tmp_path / "shared", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines == [
        f"{fold.parent}: min_call_s 1.9, max_call_s 0: clean 0.000 / 1.000 (1.000, 1.000); false calls on no-call material 2",
        f"{fold.parent}: min_call_s 1.9, max_call_s 8: clean 0.000 / 1.000 (1.000, 1.000); false calls on no-call material 1",
        f"{fold.parent}: min_call_s 2.4, max_call_s 0: clean 0.500 / 0.667 (1.000, 0.500); false calls on no-call material 1",
        f"{fold.parent}: min_call_s 2.4, max_call_s 8: clean 0.500 / 0.667 (1.000, 0.500); false calls on no-call material 0",
    ]
    own = run_script("benchmarks/rescore_counting.py", fold.parent, "--shared", tmp_path / "shared", cwd=tmp_path)
    assert own.stdout.strip().splitlines() == [  # each fold's saved settings, the defaults here: 2.25 s to 8 s
        f"{fold.parent}: min_call_s each fold's own, max_call_s each fold's own: clean 0.000 / 1.000 (1.000, 1.000); "
        "false calls on no-call material 1"]


def test_rescoring_without_joining_counts_a_split_call_twice(tmp_path):
    forest = tmp_path / "shared" / "forest"
    forest.mkdir(parents=True)
    (forest / "calls.csv").write_text("recording,start,end,confidence\nrecording_a.mp3,10.0,16.0,sure\n")
    fold = tmp_path / "runs" / "setting" / "fold0"
    fold.mkdir(parents=True)
    (fold / "detector.json").write_text(json.dumps({"counting": CountingConfig().to_dict(),
                                                    "frontend": {"clip_s": WINDOW_S}}))
    split = scores_with_runs("recording_a.mp3", [(10.5, 13), (14.5, 9)])  # 3.25 s, 0.75 s low, 2.25 s
    with open(fold / "window_scores.pkl", "wb") as f:
        pickle.dump({"clean": [split]}, f)
    done = run_script("benchmarks/rescore_counting.py", fold.parent, "--join-within-s", "0", "7",
                      "--shared", tmp_path / "shared", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines() == [
        f"{fold.parent}: min_call_s each fold's own, max_call_s each fold's own, join_within_s 0: "
        "clean 1.000 / 0.667 (0.500, 1.000); false calls on no-call material 0",
        f"{fold.parent}: min_call_s each fold's own, max_call_s each fold's own, join_within_s 7: "
        "clean 0.000 / 1.000 (1.000, 1.000); false calls on no-call material 0"]


def test_the_tuning_speed_benchmark_finds_both_paths_agree_on_every_setting(tmp_path):
    """benchmarks/counting_tuning_speed.py: the tuner and the table path score all 1,296 settings alike on
    saved window scores (it exits 1 and says how many differ otherwise)."""
    forest = tmp_path / "shared" / "forest"
    forest.mkdir(parents=True)
    (forest / "calls.csv").write_text("recording,start,end,confidence\n"
                                      "recording_a.mp3,10.0,14.0,sure\nrecording_a.mp3,30.0,35.0,faint\n")
    fold = tmp_path / "fold0"
    fold.mkdir()
    (fold / "detector.json").write_text(json.dumps({"counting": CountingConfig().to_dict(),
                                                    "frontend": {"clip_s": WINDOW_S}}))
    rng = np.random.default_rng(0)
    noisy = scores_with_runs("recording_a.mp3", [(10.5, 13), (30.5, 5)])
    noisy.scores = np.clip(noisy.scores * rng.uniform(0.3, 1.0, len(noisy.scores)) + rng.uniform(0, 0.4, len(noisy.scores)), 0, 1)
    with open(fold / "window_scores.pkl", "wb") as f:
        pickle.dump({"clean": [noisy]}, f)

    done = run_script("benchmarks/counting_tuning_speed.py", fold, "--shared", tmp_path / "shared", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "1296 settings: tune_counting" in done.stdout and "settings scored differently: 0" in done.stdout, done.stdout


def saved_gate_run(tmp_path, material: str, name: str, audio: np.ndarray):
    """A fold of saved scores as the gate benchmarks read it: ../shared/forest with one recording holding a harmonic
    stack at 10-15 s (labelled), and a no-call file `name` of `material` (`audio`, 35 s at 16 kHz), each scored as one
    call over the same 4.25 s. Returns the run folder."""
    import soundfile as sf
    from test_pulse_gate import harmonic_stack

    from data_pipeline.features.frontend import FrontendConfig

    forest = tmp_path / "shared" / "forest"
    forest.mkdir(parents=True)
    quiet = np.zeros(16000 * 10, np.float32)
    sf.write(forest / "recording_a.mp3", np.concatenate([quiet, harmonic_stack(5), quiet, quiet]), 16000)
    (forest / "calls.csv").write_text("recording,start,end,confidence\nrecording_a.mp3,10.0,15.0,sure\n")
    no_call = tmp_path / "runs" / "data" / "no_call"
    no_call.mkdir(parents=True)
    sf.write(no_call / name, audio, 16000)
    fold = tmp_path / "runs" / "setting" / "fold0"
    fold.mkdir(parents=True)
    (fold / "detector.json").write_text(json.dumps({"counting": CountingConfig().to_dict(),
                                                    "frontend": FrontendConfig().to_dict()}))
    saved = {"unheard": [scores_with_runs("recording_a.mp3", [(10.5, 17)], 35.0)],
             f"no_call:{material}": [scores_with_runs(name, [(10.5, 17)], 35.0)]}
    with open(fold / "window_scores.pkl", "wb") as f:
        pickle.dump(saved, f)
    return fold.parent


def test_the_pulse_gate_on_saved_scores_drops_the_trill_and_keeps_the_call(tmp_path):
    """benchmarks/pulse_gate.py: each scored recording decoded again and measured as counting measures it."""
    from test_pulse_gate import trill

    quiet = np.zeros(16000 * 10, np.float32)
    run = saved_gate_run(tmp_path, "unseen", "generated_frogs.flac", np.concatenate([quiet, trill(5), quiet, quiet]))
    done = run_script("benchmarks/pulse_gate.py", run, "--gates", "0", "6", "--shared", tmp_path / "shared",
                      "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "gate 0 dB: true calls 1, false calls 1 (unseen 1)" in lines
    assert "gate 6 dB: true calls 1, false calls 0 (none)" in lines


def test_averaged_runs_keep_the_harmonic_gate(tmp_path):
    """benchmarks/averaged_models.py: each run measured only the windows it scored high, so the average must take
    the measure from whichever run did; a stretch one run calls, that holds no harmonic stack, stays no call."""
    (tmp_path / "forest").mkdir()
    (tmp_path / "forest" / "calls.csv").write_text("recording,start,end,confidence\nrecording_a.mp3,10.0,15.0,sure\n")

    def measured(rec: RecordingScores, harmonicity: float) -> RecordingScores:
        high = rec.scores >= 0.2
        rec.harmonicities = np.where(high, harmonicity, np.nan)
        rec.pulse_spreads = np.where(high, 3.0, np.nan)
        return rec

    for run, noise_called in (("one", True), ("two", False)):
        fold = tmp_path / run / "fold0"
        fold.mkdir(parents=True)
        noise = scores_with_runs("generated_noise.flac", [(10.5, 17)] if noise_called else [], 35.0)
        saved = {"unheard": [measured(scores_with_runs("recording_a.mp3", [(10.5, 17)], 35.0), 0.7)],
                 "no_call:generated": [measured(noise, 0.1)]}
        with open(fold / "window_scores.pkl", "wb") as f:
            pickle.dump(saved, f)
    done = run_script("benchmarks/averaged_models.py", tmp_path / "one", tmp_path / "two", "--shared", tmp_path,
                      cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    averaged = lines.index("[0] + [1] averaged: unheard 0.000 / 1.000")
    assert lines[averaged + 1] == "  false calls: generated 0; all 0"


def test_the_harmonic_gate_on_saved_scores_at_other_minimum_calls(tmp_path):
    """benchmarks/harmonic_gate.py --runs --min-call-s: the minimum call varied with each fold's own gate in place, so
    a noise stretch scored as a call stays dropped at every minimum while the call is kept until the minimum passes it."""
    noise = np.random.default_rng(0).normal(0, 0.1, 16000 * 35).astype(np.float32)
    run = saved_gate_run(tmp_path, "generated", "generated_noise.flac", noise)
    done = run_script("benchmarks/harmonic_gate.py", "--runs", run, "--min-call-s", "1", "6",
                      "--shared", tmp_path / "shared", "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "min_call_s 1 s: true calls 1, false calls 0 (none)" in lines
    assert "min_call_s 6 s: true calls 0, false calls 0 (none)" in lines
    assert not (tmp_path / "out").exists()  # nothing to write
