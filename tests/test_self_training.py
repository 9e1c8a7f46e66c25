"""`train.py --unlabelled`: a detector trained on a few labelled synthetic recordings labels the others itself and
a model trains again on both; what it guessed is kept and is right, the validation recordings stay the labelled
ones, and bad input stops in one line before any training."""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import run_script

from data_pipeline.labels.annotations import read_call_labels
from data_pipeline.labels.class_folders import KAGGLE_RECORDINGS_DIR
from data_pipeline.synthetic.capuchinbird import write_demo_dataset
from model.reporting.evaluation import evaluate

LABELLED = [f"recording_{i:02d}.wav" for i in range(6)]
UNLABELLED = [f"recording_{i:02d}.wav" for i in range(6, 10)]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """10 synthetic recordings of 40 s, the first six labelled (labelled.csv), and the truth of all of them."""
    root = tmp_path_factory.mktemp("self-training")
    truth = read_call_labels(write_demo_dataset(root / "data", seed=3, n_positive_sources=4, n_negative_sources=4,
                                                clips_per_source=1, n_recordings=10, recording_s=40.0,
                                                recording_format="wav"))
    truth[truth["recording"].isin(LABELLED)].to_csv(root / "labelled.csv", index=False)
    return root, root / "data" / KAGGLE_RECORDINGS_DIR, truth


def _train(root, folder, *extra):
    return run_script("train.py", "--recordings", *[folder / n for n in LABELLED], "--labels", root / "labelled.csv",
                      "--negative-bank-per-kind", "0", "--epochs", "8", "--patience", "3", *extra, cwd=root)


@pytest.mark.slow  # trains two networks
def test_the_model_labels_the_unlabelled_recordings_and_trains_again_on_them(recordings):
    root, folder, truth = recordings
    proc = _train(root, folder, "--unlabelled", *[folder / n for n in UNLABELLED], "--run-dir", root / "run")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    run = root / "run"
    assert (run / "model.keras").is_file() and (run / "self_training" / "fit0" / "model.keras").is_file()
    guessed = pd.read_csv(run / "pseudo_labels.csv")
    assert sorted(guessed["recording"].unique()) == UNLABELLED
    sure = guessed[guessed["confidence"] == "sure"].assign(score=1.0)
    _, summary = evaluate(sure[["recording", "start", "end", "score"]], truth, UNLABELLED)
    assert summary["precision"] == 1.0 and summary["recall"] >= 0.8, summary  # what it taught as calls were calls
    assert f"self-training: 4 unlabelled recording(s) labelled by the model before: {len(sure)} calls" in proc.stdout

    def splits(run_dir):
        table = pd.read_csv(run_dir / "split.csv")
        return table.assign(recording=table["file"].map(lambda f: f.rsplit("/", 1)[-1])).groupby("recording")["split"]

    before, after = splits(run / "self_training" / "fit0"), splits(run)
    # By default a guessed recording gives its sure calls and nothing else (--pseudo-background: its background too).
    assert set(before.groups) == set(LABELLED) and set(after.groups) == set(LABELLED) | set(sure["recording"])
    taught = pd.read_csv(run / "split.csv")
    assert set(taught.loc[taught["file"].map(lambda f: f.rsplit("/", 1)[-1]).isin(UNLABELLED), "label"]) == {"capuchinbird"}
    settings = json.loads((run / "self_training.json").read_text())
    assert settings == {"pseudo_sure_score": 0.9, "pseudo_unsure_score": 0.2, "pseudo_background": False,
                        "unlabelled": UNLABELLED}
    assert all(after.get_group(n).eq("train").all() for n in UNLABELLED)  # guessed labels only ever train
    assert {n: set(after.get_group(n)) for n in LABELLED} == {n: set(before.get_group(n)) for n in LABELLED}

    # The same command again into the same folder (as after a stop): both fits are reused, nothing is trained.
    weights = {fit: (fit / "model.keras").read_bytes() for fit in (run, run / "self_training" / "fit0")}
    again = _train(root, folder, "--unlabelled", *[folder / n for n in UNLABELLED], "--run-dir", run)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert "Epoch 1/" not in again.stdout and again.stdout.count("already holds this fit") == 2, again.stdout
    assert {fit: (fit / "model.keras").read_bytes() for fit in weights} == weights
    assert pd.read_csv(run / "pseudo_labels.csv").equals(guessed)


@pytest.mark.slow  # trains one network
def test_with_no_sure_call_to_teach_the_model_before_is_kept_not_trained_again(recordings):
    """Calls only, and the first model is sure of no call in the unlabelled audio (here 40 s of silence): the
    second fit would train on the same clips again, so the first model is copied, and train.py says why."""
    import filecmp

    import numpy as np
    import soundfile as sf

    root, folder, _ = recordings
    sf.write(root / "silent.wav", np.zeros(40 * 16000, dtype=np.float32), 16000)
    proc = _train(root, folder, "--unlabelled", root / "silent.wav", "--run-dir", root / "kept")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    run, fit0 = root / "kept", root / "kept" / "self_training" / "fit0"
    assert "the model before was sure (>= 0.9) of no call in the 1 unlabelled recording(s)" in proc.stdout
    assert proc.stdout.count("Epoch 1/") == 1  # one fit, not two
    same, different, missing = filecmp.cmpfiles(fit0, run, ["model.keras", "detector.json", "split.csv"], shallow=False)
    assert same == ["model.keras", "detector.json", "split.csv"], (different, missing)
    assert (pd.read_csv(run / "pseudo_labels.csv")["confidence"] != "sure").all()
    assert json.loads((run / "self_training.json").read_text())["unlabelled"] == ["silent.wav"]


@pytest.mark.parametrize("background", [True, False])
def test_the_clips_a_round_trains_on_keep_the_labelled_splits_and_take_the_guessed_calls(recordings, background):
    """By default the unlabelled recordings give their sure calls and nothing else, so a call the model before
    missed is never taught as background (--pseudo-background: their background too); the labelled clips are the
    same either way."""
    from data_pipeline.labels.annotations import clips_from_annotations
    from model.learning.self_training import self_training_clips

    root, folder, truth = recordings
    classes = ["not_capuchinbird", "capuchinbird"]
    labelled = clips_from_annotations([folder / n for n in LABELLED], truth[truth["recording"].isin(LABELLED)], 3.0)
    split = pd.DataFrame({"file": [str(folder / n) for n in LABELLED], "split": ["train"] * 4 + ["val"] * 2})
    guessed = truth[truth["recording"].isin(UNLABELLED)]
    table = self_training_clips(labelled, split, [folder / n for n in UNLABELLED], guessed, classes, 3.0, background)

    table = table.assign(name=table["file"].map(lambda f: str(f).rsplit("/", 1)[-1]))
    assert list(table["name"]) == sorted(table["name"])  # in recording order
    mine = table[table["name"].isin(LABELLED)]
    assert len(mine) == len(labelled) and (mine["label"].value_counts() == labelled["label"].value_counts()).all()
    assert dict(zip(mine["name"], mine["split"])) == dict(zip(LABELLED, ["train"] * 4 + ["val"] * 2))
    theirs = table[table["name"].isin(UNLABELLED)]
    assert set(theirs["split"]) == {"train"}
    calls = theirs[theirs["label"] == classes[1]]
    assert len(calls) > 0 and set(calls["name"]) == set(guessed.dropna()["recording"])
    if background:
        assert (theirs["label"] == classes[0]).sum() > 0  # their background too
    else:
        assert len(theirs) == len(calls)  # their sure calls only



def test_unlabelled_recordings_of_one_name_in_two_folders_stop_before_training(tmp_path):
    from model.learning.self_training import unlabelled_recordings

    for recorder in ["north", "south"]:
        (tmp_path / recorder).mkdir()
        sf.write(tmp_path / recorder / "20240101_050000.wav", np.zeros(16000, np.float32), 16000)
    with pytest.raises(ValueError, match="share the file name '20240101_050000.wav'"):
        unlabelled_recordings([tmp_path / "north", tmp_path / "south"], {"recording_00.wav"})
    assert unlabelled_recordings([tmp_path / "north"], {"recording_00.wav"}) == [tmp_path / "north" / "20240101_050000.wav"]

SLOW = pytest.mark.slow  # each case starts train.py: one is in `make test-fast`, the rest in `make test`


@pytest.mark.parametrize("case, message", [
    ("labelled", "error: --unlabelled: recording_00.wav is labelled in --labels; give each recording either labelled or "
                 "unlabelled"),
    pytest.param("missing", "error: --unlabelled: no such file or folder: nowhere", marks=SLOW),
    pytest.param("scores", "error: --pseudo-unsure-score 0.95 and --pseudo-sure-score 0.9: give 0 < unsure <= sure <= 1",
                 marks=SLOW),
    pytest.param("rounds", "train.py: error: --self-training-rounds must be 1 or more, got 0", marks=SLOW),
])
def test_bad_self_training_input_stops_in_one_line_before_training(recordings, case, message):
    root, folder, _ = recordings
    unlabelled = {"labelled": [folder / LABELLED[0]], "missing": ["nowhere"]}.get(case, [folder / UNLABELLED[0]])
    extra = {"scores": ["--pseudo-unsure-score", "0.95"], "rounds": ["--self-training-rounds", "0"]}.get(case, [])
    proc = _train(root, folder, "--unlabelled", *unlabelled, *extra, "--run-dir", root / f"bad-{case}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == message
    assert not (root / f"bad-{case}").exists()
