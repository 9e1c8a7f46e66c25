"""Counting resumes: a rerun reuses each recording's stored scores (OUTPUT_parts/) when the model, the
hop and the file are unchanged, and the outputs of an interrupted-then-resumed run equal an
uninterrupted run's, byte for byte."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import soundfile as sf
from conftest import ROOT, chirp_recordings, output_bytes, run_script

from model.detection.score_parts import PART_SUFFIX

pytestmark = pytest.mark.slow  # eight runs of count_calls.py: `make test-fast` skips it


def _finished_parts(folder):
    """Part files renamed into place; a part being written is a hidden temporary file, which a kill can leave."""
    return [p for p in folder.glob("*" + PART_SUFFIX) if not p.name.startswith(".")] if folder.exists() else []


def _count(cwd, model, *extra):
    proc = run_script("count_calls.py", "--input", "rec", "--model", model, "--output", "out/counts.csv", *extra,
                      cwd=cwd)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout + proc.stderr


def test_a_rerun_reuses_what_matches_and_rescores_what_changed(tmp_path, untrained_model):
    chirp_recordings(tmp_path / "rec", 3, 20)
    said = _count(tmp_path, untrained_model)
    assert "3 recording(s) counted (0 of them resumed" in said
    first = output_bytes(tmp_path / "out")
    parts = sorted(p.name for p in (tmp_path / "out" / "counts_parts").iterdir())
    assert parts == [f"site_{i:02d}.wav.scores.npz" for i in range(3)]

    shutil.rmtree(tmp_path / "out" / "counts_detections")  # outputs lost, parts kept: all resumed, same bytes
    (tmp_path / "out" / "counts.csv").unlink()
    said = _count(tmp_path, untrained_model)
    assert "resuming: 3 of 3 recordings" in said and "(3 of them resumed" in said
    assert output_bytes(tmp_path / "out") == first

    changed = tmp_path / "rec" / "site_01.wav"  # a recording replaced under the same name is scored again
    x, rate = sf.read(changed, dtype="float32")
    sf.write(changed, x[::-1].copy(), rate)
    said = _count(tmp_path, untrained_model)
    assert "resuming: 2 of 3 recordings" in said

    said = _count(tmp_path, untrained_model, "--hop-s", "0.5")  # another hop: other windows, no part fits
    assert "resuming" not in said and "(0 of them resumed" in said
    said = _count(tmp_path, untrained_model, "--hop-s", "0.5", "--fresh")
    assert "resuming" not in said and "(0 of them resumed" in said
    said = _count(tmp_path, untrained_model, "--hop-s", "0.5", "--threshold", "0.9")  # settings after scoring: reused
    assert "resuming: 3 of 3 recordings" in said


def test_a_killed_count_resumes_to_the_same_outputs_as_an_uninterrupted_one(tmp_path, untrained_model):
    chirp_recordings(tmp_path / "rec", 8, 120)
    whole = tmp_path / "whole"
    whole.mkdir()
    (whole / "rec").symlink_to(tmp_path / "rec")
    _count(whole, untrained_model)

    parts = tmp_path / "out" / "counts_parts"
    proc = subprocess.Popen([sys.executable, str(ROOT / "count_calls.py"), "--input", "rec", "--model",
                             str(untrained_model), "--output", "out/counts.csv"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not _finished_parts(parts) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # no chance to clean up: a lost machine
    proc.wait()
    kept = len(_finished_parts(parts))
    assert 1 <= kept < 8 and not (tmp_path / "out" / "counts.csv").exists()  # killed mid-run, no outputs yet

    said = _count(tmp_path, untrained_model)
    assert f"resuming: {kept} of 8 recordings" in said
    assert output_bytes(tmp_path / "out") == output_bytes(whole / "out")
