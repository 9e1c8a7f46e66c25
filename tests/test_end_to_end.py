"""Train on a small synthetic Kaggle-layout dataset, then predict and count through the scripts."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_script

from data_pipeline.features.frontend import FrontendConfig
from data_pipeline.labels.annotations import read_call_labels
from data_pipeline.labels.class_folders import KAGGLE_RECORDINGS_DIR, clips_from_folders
from data_pipeline.synthetic.negatives import NEGATIVE_KINDS
from data_pipeline.synthetic.capuchinbird import write_demo_dataset
from model.detection.counting import count_calls
from model.detection.detector import Detector
from model.learning.presets import get_preset, preset_augment
from model.learning.training import TrainConfig, network_settings, train
from model.reporting.evaluation import evaluate

pytestmark = pytest.mark.slow  # trains networks: `make test-fast` skips it

# Not the default: proves prediction and counting read the front end saved with the model.
FRONTEND = FrontendConfig(clip_s=2.5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    # 20 call sources, not 12: with 12, the model trained on a Xeon with AMX (seed 0) called only the first 1.75 s
    # of a 5.4 s call and dropped the next one, scored high only at its onset (CI failed; AMD EPYC had passed), and
    # seeds 2 and (with oneDNN off) 0 counted one recording wrong, at the floor. With 20: every count exact at
    # seeds 0-3 and with oneDNN off, in the same training time (41-42 s alone; the recordings change with them).
    labels = write_demo_dataset(root / "data", seed=7, n_positive_sources=20, n_negative_sources=15,
                                clips_per_source=5, n_recordings=4, recording_s=40.0)
    clips, classes = clips_from_folders(root / "data")
    network = network_settings(None, FRONTEND, {}, shared_by_default=True)  # the capuchinbird default's kind
    augment = preset_augment(get_preset("capuchinbird"), FRONTEND)  # and its pitch augmentation
    train(clips, classes, root / "run", TrainConfig(epochs=15, patience=4, verbose=0, network=network, augment=augment),
          frontend=FRONTEND)
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


def test_generated_negatives_and_the_mined_ones_are_recorded_and_learnt(trained):
    import soundfile as sf

    from data_pipeline.features.frontend import clip_features

    run = trained[0] / "run"
    metrics = json.loads((run / "test_metrics.json").read_text())
    split = pd.read_csv(run / "split.csv")
    bank = split[split["group"].str.startswith("generated:")]
    assert metrics["negative_bank"] == dict.fromkeys(NEGATIVE_KINDS, 16)  # 8 alone, 8 mixed, per kind
    assert len(bank) == 16 * len(NEGATIVE_KINDS) and set(bank["split"]) == {"train"}
    table = pd.read_csv(run / "mined_negatives.csv")
    for split in ("train", "val"):
        assert metrics["hard_negatives"][split] == table[table["split"] == split].groupby("kind").size().to_dict()
    mined = table[table["split"] == "train"]
    threshold = metrics["hard_negatives"]["threshold"]
    assert threshold == 0.2 and len(mined) > 0 and (table["score"] >= threshold).all()  # the first fit (nearly) called some...
    clips = np.stack([sf.read(f, dtype="float32")[0] for f in mined["file"]])
    after = Detector.load(run).score(np.asarray(clip_features(clips, FRONTEND)))
    assert np.mean(after < 0.5) >= 0.8 and after.mean() < mined["score"].mean(), (mined, after)  # ...the second fit learnt them


def tensorboard_plugins(logdir) -> dict:
    import tensorflow as tf

    return {v.tag: v.metadata.plugin_data.plugin_name for f in logdir.rglob("events.out.tfevents.*")
            for e in tf.compat.v1.train.summary_iterator(str(f)) for v in e.summary.value}


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
    gaps = calls.groupby("recording")[["start", "end"]].apply(
        lambda c: (c["start"].to_numpy()[1:] - c["end"].to_numpy()[:-1]).tolist())
    assert sum(g <= 2.0 for gs in gaps for g in gs) >= 2  # the data holds calls with only 1-2 s of quiet between
    assert summary["exact_count_fraction"] >= 0.75, per_rec.to_string()
    assert summary["f1"] >= 0.85, per_rec.to_string()
    # Matched calls start near the labelled time and end within a window of it. Measured over four of the trainings
    # above (36 calls: seeds 1-3, and 0 with oneDNN off): starts 0.14-0.50 s late; ends 0.11-0.87 s early, and, with
    # oneDNN off, 1.23, 1.93 and 2.28 s early on three long calls whose last seconds that network scored under the
    # threshold. On the data as made since the noise is drawn at quick FFT lengths (other calls), seeds 0-3 and 0 with
    # oneDNN off: every count exact, starts and ends within 0.51 and 0.61 s of the labels.
    for rec, ev in result.events.groupby("recording"):
        truth = labels[labels["recording"] == rec].dropna()
        for row in ev.itertuples():
            nearest = truth.iloc[np.argmin(np.abs(truth["start"] - row.start))] if len(truth) else None
            if nearest is not None and min(row.end, nearest.end) > max(row.start, nearest.start):
                assert abs(row.start - nearest.start) < 1.0 and abs(row.end - nearest.end) < FRONTEND.clip_s, (row, nearest)


def test_count_calls_script_writes_outputs_and_reports_a_bad_file(trained, tmp_path):
    import soundfile as sf

    root, labels_csv = trained
    inputs = tmp_path / "in"
    inputs.mkdir()
    for rec in sorted((root / "data" / KAGGLE_RECORDINGS_DIR).glob("*.mp3"))[:2]:
        (inputs / rec.name).symlink_to(rec)
    (inputs / "S4A01234_20240315_235930.mp3").symlink_to(rec)  # as a Song Meter names a recording begun then
    (inputs / "broken.mp3").write_text("not audio at all")
    sf.write(inputs / "z_low_rate.wav", np.random.default_rng(0).normal(0, 0.01, 20000), 2000)  # 10 s at 2 kHz
    out = tmp_path / "out" / "submission.csv"
    proc = run_script("count_calls.py", "--input", str(inputs), "--model", str(root / "run"), "--output", str(out),
                      "--labels", str(labels_csv), "--tensorboard", str(tmp_path / "tb"), cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    plugins = tensorboard_plugins(tmp_path / "tb")  # one tag each, or TensorBoard files the PNG under Text
    assert plugins == {"calls_per_recording/table": "text", "calls_per_recording/chart": "images"}, plugins
    assert "broken.mp3: not an audio file" in proc.stderr
    assert "warning: 1 recording(s) sampled below 5000 Hz" in proc.stderr and "z_low_rate.wav (2000 Hz)" in proc.stderr
    assert "Traceback" not in proc.stderr
    sub = pd.read_csv(out)
    assert list(sub.columns) == ["clip_name", "call_count"]
    assert sub["clip_name"].tolist() == ["S4A01234_20240315_235930.mp3", "recording_00.mp3", "recording_01.mp3",
                                         "z_low_rate.wav"]  # counted all the same
    events = pd.read_csv(tmp_path / "out" / "submission_events.csv", keep_default_na=False)
    assert list(events.columns) == ["recording", "start", "end", "score", "clock_start"]
    named, plain = (events[events["recording"] == name] for name in ("S4A01234_20240315_235930.mp3", "recording_01.mp3"))
    assert len(named) and named[["start", "end"]].values.tolist() == plain[["start", "end"]].values.tolist()
    began = pd.Timestamp("2024-03-15 23:59:30")
    assert named["clock_start"].tolist() == [(began + pd.Timedelta(seconds=s)).isoformat(" ", "milliseconds")
                                             for s in named["start"]]  # the time of day, into the next day
    assert set(events.loc[events["recording"] != named["recording"].iloc[0], "clock_start"]) <= {""}  # no time: none
    hours = pd.read_csv(tmp_path / "out" / "submission_hours.csv")  # calls per hour of day: the named recording's
    assert hours["calls"].sum() == len(named) and hours["hours_recorded"].sum() == pytest.approx(40 / 3600, abs=0.002)
    assert (tmp_path / "out" / "submission_hours.png").stat().st_size > 1000
    assert "over the 1 recording(s) whose file names say when they began (3 whose names do not left out)" in proc.stdout
    assert (events.groupby("recording").size().reindex(sub["clip_name"], fill_value=0).to_numpy()
            == sub["call_count"].to_numpy()).all()
    assert (tmp_path / "out" / "submission_counts.png").stat().st_size > 1000
    raven = pd.read_csv(tmp_path / "out" / "submission_detections" / "recording_01.Table.1.selections.txt", sep="\t")
    assert len(raven) == sub.set_index("clip_name").loc["recording_01.mp3", "call_count"]
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no temporary files left behind


def test_predict_script_scores_clips_and_lists_failures(trained, tmp_path):
    import soundfile as sf

    from data_pipeline.synthetic.capuchinbird import CLIP_RATE_HZ, synth_clips

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
    # Every call above every clip without one. Not each on its side of 0.5: this small detector scored its faintest
    # call 0.81 when trained with two TensorFlow threads (CI's two cores) and 0.33 with one, as a machine with another
    # number of cores may train it; above the four backgrounds (0.005 at most) either way.
    is_call = np.array([is_call for is_call, _ in clips])
    assert table["probability"][is_call].min() > table["probability"][~is_call].max(), table.to_string()
    assert ((table["label"] == "capuchinbird") == (table["probability"] >= 0.5)).all()


def test_missing_data_folder_is_one_line(tmp_path):
    proc = run_script("train.py", "--data-dir", str(tmp_path / "nope"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "Parsed_Capuchinbird_Clips" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_nothing_read_writes_nothing_and_an_unquoted_space_is_explained(trained, tmp_path):
    root, _ = trained
    out = tmp_path / "submission.csv"
    out.write_text("clip_name,call_count\nrecording_00.mp3,3\n")  # a good earlier submission
    before = out.read_text()
    forest = root / "data" / KAGGLE_RECORDINGS_DIR  # "Forest Recordings", with its space
    proc = run_script("count_calls.py", "--input", str(forest).replace(" Recordings", ""), "Recordings",
                      "--model", str(root / "run"), "--output", str(out), cwd=tmp_path)
    assert proc.returncode == 2 and "quote a path with spaces" in proc.stderr and f'"{forest}"' in proc.stderr
    broken = tmp_path / "broken.mp3"
    broken.write_text("not audio")
    proc = run_script("count_calls.py", "--input", str(broken), "--model", str(root / "run"), "--output", str(out),
                      cwd=tmp_path)
    assert proc.returncode == 2 and "none of the 1 recordings could be read, so nothing was written" in proc.stderr
    assert out.read_text() == before and sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp3", "submission.csv"]
    assert "Traceback" not in proc.stderr


def test_model_paths_a_user_might_give(trained, tmp_path, monkeypatch):
    root, _ = trained
    assert Detector.load(root / "run" / "model.keras").frontend == FRONTEND  # the model file: its run folder
    with pytest.raises(FileNotFoundError, match="runs/forrest: no such folder"):
        Detector.load("runs/forrest")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo" / "run").mkdir(parents=True)
    (tmp_path / "demo" / "run" / "detector.json").write_text("{}")
    from model.detection.run_folder import latest_run

    with pytest.raises(FileNotFoundError, match="--model demo/run"):
        latest_run()


def test_a_recording_ending_mid_window_gets_no_score_from_padding(trained, tmp_path):
    import soundfile as sf

    from data_pipeline.synthetic.capuchinbird import RECORDING_RATE_HZ, synth_background
    from model.detection.counting import score_recording

    root, _ = trained
    detector = Detector.load(root / "run")
    path = tmp_path / "quiet_end.wav"
    sf.write(path, 0.1 * synth_background(np.random.default_rng(5), RECORDING_RATE_HZ, 20.3), RECORDING_RATE_HZ)
    scores = score_recording(detector, path)
    assert scores.starts_s[-1] + FRONTEND.clip_s == pytest.approx(20.3, abs=1e-3)  # the last window ends at the end
    assert scores.scores.max() < 0.5, scores.scores  # background only: nothing calls, at the end least of all


def test_counting_labels_with_a_typo_warns_and_does_not_score_the_recording(trained, tmp_path):
    from model.reporting.count_report import count_and_report

    root, labels_csv = trained
    recordings = sorted((root / "data" / KAGGLE_RECORDINGS_DIR).glob("*.mp3"))[:2]
    labels = pd.read_csv(labels_csv)
    labels = labels[labels["recording"].isin([r.name for r in recordings])]
    labels["recording"] = labels["recording"].str.replace("recording_01", "recording_1")
    typo = tmp_path / "labels.csv"
    labels.to_csv(typo, index=False)
    detector = Detector.load(root / "run")
    count_and_report(detector, recordings, tmp_path / "sub.csv", labels_path=typo, export=())
    evaluation = pd.read_csv(tmp_path / "sub_evaluation.csv")
    assert evaluation["recording"].tolist() == ["recording_00.mp3"]  # not recording_01 scored as "no calls"


def test_ctrl_c_ends_counting_with_one_line_and_status_130(trained, tmp_path):
    import signal
    import time

    import soundfile as sf

    root, _ = trained
    long = tmp_path / "long.wav"
    rng = np.random.default_rng(0)
    sf.write(long, (0.05 * rng.standard_normal(16000 * 1200)).astype(np.float32), 16000, subtype="PCM_16")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(8):  # 160 minutes: far longer than the test waits
        (inputs / f"r{i}.wav").symlink_to(long)
    for attempt in range(2):
        # Ctrl-C's default handling in the script, as from a terminal: where the suite itself was started
        # as a shell's background job, SIGINT comes ignored, and the script rightly keeps ignoring it.
        proc = subprocess.Popen([sys.executable, str(ROOT / "count_calls.py"), "--input", str(inputs), "--model",
                                 str(root / "run"), "--output", str(tmp_path / f"s{attempt}.csv")],
                                cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        seen = b""
        deadline = time.monotonic() + 300
        # First as the model has loaded, just before counting starts (random moments there: benchmarks/ctrl_c.py);
        # then mid-count, as a user stops a long run, once the first recording is done.
        marker = [b"model:", b"1/8"][attempt]
        while marker not in seen and time.monotonic() < deadline:
            seen += proc.stderr.read1(4096)
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=60)[1]
        stderr = (seen + rest).decode(errors="replace")
        # Only the model line (by its pattern) and the progress bar may come before the one line: a Ctrl-C
        # landing between a print's text and its newline joins the one line to that text (seen once).
        text = re.sub(r"model: [^\n]*?CountingConfig\([^)]*\)", "", stderr.replace("\r", "\n"))
        lines = [line for line in text.splitlines() if line.strip() and not line.startswith("counting:")]
        assert proc.returncode == 130, stderr
        assert lines == ["interrupted; no output was left half-written"], stderr
        assert not (tmp_path / f"s{attempt}.csv").exists()


def test_training_on_labelled_recordings_reports_clips_and_recordings_not_pooled_files(trained, tmp_path, capsys,
                                                                                     decoded_paths):
    from data_pipeline.training_data.clips import training_clips

    root, labels_csv = trained
    clips, classes, labels = training_clips(None, [root / "data" / KAGGLE_RECORDINGS_DIR], labels_csv, FRONTEND.clip_s)
    config = TrainConfig(epochs=2, verbose=0, split_fractions=(0.5, 0.25, 0.25), hard_negative_pool_per_kind=0)
    labels = labels.assign(end=labels["end"] + 6.0)  # every call 6 s longer: longer than the 8 s the counting allows
    decoded_paths.clear()
    train(clips, classes, tmp_path / "run", config, frontend=FRONTEND, labels=labels)
    recordings = [p for p in decoded_paths if p.parent.name == KAGGLE_RECORDINGS_DIR]
    assert sorted(recordings) == sorted(set(clips["file"].map(Path)))  # each once: its clips and the bank's backgrounds
    metrics = json.loads((tmp_path / "run" / "test_metrics.json").read_text())
    split = pd.read_csv(tmp_path / "run" / "split.csv")
    heard = {Path(f).name for f in split.loc[split["split"] != "test", "file"]}
    longest = (labels["end"] - labels["start"])[labels["recording"].isin(heard)].max()
    assert longest > 7.0  # so the limit had to rise, to 1 s above the longest call training and validation heard
    saved = json.loads((tmp_path / "run" / "detector.json").read_text())["counting"]
    assert saved["max_call_s"] == pytest.approx(longest + 1.0)
    assert saved["join_within_s"] == pytest.approx(longest + 0.5)  # two calls that together last that long are one
    assert "test_recordings" in metrics and "test" in metrics
    listed = pd.read_csv(tmp_path / "run" / "unlabelled_calls.csv")  # what was counted where no label is
    assert set(metrics["unlabelled_calls"]) == {"train", "val", "test"}
    assert sum(metrics["unlabelled_calls"].values()) == len(listed)
    assert "test_files" not in metrics and "validation_files" not in metrics  # a recording holds both classes
    out = capsys.readouterr().out
    assert "test clips (2.5 s windows)" in out and "test files" not in out
    assert out.index("test clips") < out.index("test recordings (calls counted and matched to the labelled calls)")


def _recording_with_silence(path, rng, lead_s, calls_at, tail_s, gaps=()):
    """A 48 kHz recording: `lead_s` of digital silence, background with calls at `calls_at` (seconds
    from the end of the lead), silent stretches `gaps` [(start, end)] inside it, then `tail_s` of silence."""
    import soundfile as sf

    from data_pipeline.synthetic.capuchinbird import RECORDING_RATE_HZ as SR
    from data_pipeline.synthetic.capuchinbird import mix_at_snr, synth_background, synth_call

    body_s = max(end for _, end in calls_at) + 8
    body = synth_background(rng, SR, body_s)
    for start, end in calls_at:
        mix_at_snr(body, synth_call(rng, SR, end - start), int(start * SR), 6.0)
    for start, end in gaps:
        body[int(start * SR) : int(end * SR)] = 0.0
    audio = np.concatenate([np.zeros(int(lead_s * SR)), 0.2 * body / np.abs(body).max(), np.zeros(int(tail_s * SR))])
    sf.write(path, audio.astype(np.float32), SR, subtype="PCM_16")
    return [(lead_s + s, lead_s + e) for s, e in calls_at]


def test_silent_first_and_last_minute_and_silent_gaps_hold_no_call(trained, tmp_path):
    root, _ = trained
    detector = Detector.load(root / "run")
    rng = np.random.default_rng(11)
    framed = _recording_with_silence(tmp_path / "framed.wav", rng, 60.0, [(5.0, 10.0), (25.0, 30.5)], 60.0)
    gapped = _recording_with_silence(tmp_path / "gapped.wav", rng, 0.0, [(3.0, 8.0), (20.0, 25.0), (37.0, 42.0)],
                                     0.0, gaps=[(11.0, 16.0), (28.0, 33.0)])
    result = count_calls(detector, [tmp_path / "framed.wav", tmp_path / "gapped.wav"], progress=False)
    for name, truth in (("framed.wav", framed), ("gapped.wav", gapped)):
        events = result.events[result.events["recording"] == name]
        assert len(events) == len(truth), (name, events, truth)
        for (start, end), row in zip(truth, events.itertuples()):
            assert min(end, row.end) > max(start, row.start), (name, row, truth)  # each call found where it is


def test_predict_says_no_call_for_silence_a_tone_and_a_heart(trained, tmp_path):
    import soundfile as sf

    from conftest import SHARED, sine

    root, _ = trained
    files = {"silence.wav": np.zeros(16000 * 5), "tone.wav": 0.3 * sine(800, 5.0, 16000),
             "dither.wav": np.random.default_rng(0).integers(-1, 2, 16000 * 5) / 32768}
    for name, samples in files.items():
        sf.write(tmp_path / name, samples, 16000, subtype="PCM_16")
    paths = [tmp_path / name for name in files]
    heart = sorted((SHARED / "heart").glob("*.wav"))[:3]
    proc = run_script("predict.py", *map(str, paths + heart), "--model", str(root / "run"), "--output",
                      str(tmp_path / "p.csv"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "p.csv").set_index("file")
    assert table.loc[str(tmp_path / "silence.wav"), "probability"] == 0.0  # the gate, exactly
    assert table.loc[str(tmp_path / "dither.wav"), "probability"] == 0.0
    assert (table["label"] == "not_capuchinbird").all(), table.to_string()
    assert "warning: 3 recording(s) sampled below 5000 Hz" in proc.stderr  # the heart recordings, at 2 kHz
