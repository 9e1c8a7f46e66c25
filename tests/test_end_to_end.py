"""Train on a small synthetic Kaggle-layout dataset, then predict and count through the scripts."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from data_pipeline.annotations import read_call_labels
from data_pipeline.clips import KAGGLE_RECORDINGS_DIR, clips_from_folders
from data_pipeline.frontend import FrontendConfig
from data_pipeline.synthetic import write_demo_dataset
from model.counting import count_calls
from model.detector import Detector
from model.evaluation import evaluate
from model.training import TrainConfig, train

# Not the default: proves prediction and counting read the front end saved with the model.
FRONTEND = FrontendConfig(clip_s=2.5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    labels = write_demo_dataset(root / "data", seed=7, n_positive_sources=12, n_negative_sources=15,
                                clips_per_source=5, n_recordings=4, recording_s=40.0)
    clips, classes = clips_from_folders(root / "data")
    train(clips, classes, root / "run", TrainConfig(epochs=15, patience=4, verbose=0), frontend=FRONTEND)
    return root, labels


def test_run_folder_holds_model_config_and_reports(trained):
    root, _ = trained
    run = root / "run"
    for name in ["model.keras", "detector.json", "history.csv", "curves.png", "test_metrics.json",
                 "confusion_matrix.png", "split.csv"]:
        assert (run / name).is_file(), name
    assert any((run / "logs").rglob("events.out.tfevents.*"))
    config = json.loads((run / "detector.json").read_text())
    assert FrontendConfig.from_dict(config["frontend"]) == FRONTEND
    split = pd.read_csv(run / "split.csv")
    assert (split.groupby("group")["split"].nunique() == 1).all()
    metrics = json.loads((run / "test_metrics.json").read_text())
    assert metrics["validation"]["accuracy"] >= 0.9
    tags = tensorboard_tags(run / "logs")
    assert {"epoch_loss", "epoch_pr_auc", "learning_rate", "examples/capuchinbird", "examples/not_capuchinbird",
            "confusion_matrix"} <= tags, tags
    assert any(t.startswith("validation_clips") for t in tags)  # the PR curve


def tensorboard_tags(logdir):
    import tensorflow as tf

    return {v.tag for f in logdir.rglob("events.out.tfevents.*") for e in tf.compat.v1.train.summary_iterator(str(f))
            for v in e.summary.value}


def test_counts_match_known_calls_in_synthetic_recordings(trained):
    root, labels_csv = trained
    detector = Detector.load(root / "run")
    assert detector.frontend == FRONTEND
    recordings = sorted((root / "data" / KAGGLE_RECORDINGS_DIR).glob("*.mp3"))
    result = count_calls(detector, recordings, progress=False)
    labels = read_call_labels(labels_csv)
    per_rec, summary = evaluate(result.events, labels)
    calls = labels.dropna().sort_values(["recording", "start"])
    gaps = calls.groupby("recording").apply(lambda c: (c["start"].to_numpy()[1:] - c["end"].to_numpy()[:-1]).tolist())
    assert sum(g <= 2.0 for gs in gaps for g in gs) >= 2  # the data holds calls with only 1-2 s of quiet between
    assert summary["exact_count_fraction"] >= 0.75, per_rec.to_string()
    assert summary["f1"] >= 0.85, per_rec.to_string()
    # Matched calls start and end near the labelled times.
    for rec, ev in result.events.groupby("recording"):
        truth = labels[labels["recording"] == rec].dropna()
        for row in ev.itertuples():
            nearest = truth.iloc[np.argmin(np.abs(truth["start"] - row.start))] if len(truth) else None
            if nearest is not None and min(row.end, nearest.end) > max(row.start, nearest.start):
                assert abs(row.start - nearest.start) < 2.0 and abs(row.end - nearest.end) < 2.0


def run_script(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_count_calls_script_writes_outputs_and_reports_a_bad_file(trained, tmp_path):
    root, labels_csv = trained
    inputs = tmp_path / "in"
    inputs.mkdir()
    for rec in sorted((root / "data" / KAGGLE_RECORDINGS_DIR).glob("*.mp3"))[:2]:
        (inputs / rec.name).symlink_to(rec)
    (inputs / "broken.mp3").write_text("not audio at all")
    out = tmp_path / "out" / "submission.csv"
    proc = run_script("count_calls.py", "--input", str(inputs), "--model", str(root / "run"), "--output", str(out),
                      "--labels", str(labels_csv), "--tensorboard", str(tmp_path / "tb"), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert {"calls_per_recording"} == tensorboard_tags(tmp_path / "tb")
    assert "broken.mp3: not a readable audio file" in proc.stderr
    assert "Traceback" not in proc.stderr
    sub = pd.read_csv(out)
    assert list(sub.columns) == ["clip_name", "call_count"]
    assert sub["clip_name"].tolist() == ["recording_00.mp3", "recording_01.mp3"]
    events = pd.read_csv(tmp_path / "out" / "submission_events.csv")
    assert list(events.columns) == ["recording", "start", "end", "score"]
    assert (events.groupby("recording").size().reindex(sub["clip_name"], fill_value=0).to_numpy()
            == sub["call_count"].to_numpy()).all()
    assert (tmp_path / "out" / "submission_counts.png").stat().st_size > 1000
    raven = pd.read_csv(tmp_path / "out" / "submission_detections" / "recording_01.Table.1.selections.txt", sep="\t")
    assert len(raven) == sub.loc[1, "call_count"]
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no temporary files left behind


def test_predict_script_scores_clips_and_lists_failures(trained, tmp_path):
    import soundfile as sf

    from data_pipeline.synthetic import CLIP_RATE_HZ, synth_clips

    root, _ = trained
    rng = np.random.default_rng(123)  # fresh clips the model never saw, at a clearly audible 10-20 dB
    clips = [(True, c) for c in synth_clips(rng, 5, 1, positive=True, snr_range=(10, 20))]
    clips += [(False, c) for c in synth_clips(rng, 4, 1, positive=False)]  # background sources, no "between calls"
    paths = []
    for i, (_, (name, samples)) in enumerate(clips):
        paths.append(tmp_path / f"{i:02d}-{name}")
        sf.write(paths[-1], samples, CLIP_RATE_HZ)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    proc = run_script("predict.py", *map(str, paths + [empty]), "--model", str(root / "run"),
                      "--output", str(tmp_path / "p.csv"), cwd=tmp_path)
    assert proc.returncode == 1 and "empty.wav: empty file" in proc.stderr
    table = pd.read_csv(tmp_path / "p.csv")
    assert table["file"].tolist() == list(map(str, paths))
    assert ((table["probability"] >= 0.5) == np.array([is_call for is_call, _ in clips])).all(), table.to_string()
    assert ((table["label"] == "capuchinbird") == (table["probability"] >= 0.5)).all()


def test_missing_data_folder_is_one_line(tmp_path):
    proc = run_script("train.py", "--data-dir", str(tmp_path / "nope"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "Parsed_Capuchinbird_Clips" in proc.stderr
    assert "Traceback" not in proc.stderr
