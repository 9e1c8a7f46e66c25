"""The bad-input matrix of the README ("What happens to bad input"): one test per row.

Every case is either read correctly or skipped with one line naming the file and the reason; never a
traceback, never a half-written output, and the exit status says whether anything was skipped.
"""

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import SHARED, dominant_hz, run_script, sine

from data_pipeline.audio.decoding import (AudioDecodeError, AudioWarning, decode_audio, expand_audio_paths,
                                          list_audio_files)
from data_pipeline.labels.annotations import calls_past_the_end, clips_from_annotations, read_call_labels
from data_pipeline.labels.class_folders import clips_from_folders

RATE = 16000
TONE = sine(440, 3.0, 48000)


# name -> (how to write it, seconds expected, tone expected): read correctly, at 16 kHz mono.
READABLE = {
    "8-bit.wav": (lambda p: sf.write(p, TONE, 48000, subtype="PCM_U8"), 3.0),
    "24-bit.wav": (lambda p: sf.write(p, TONE, 48000, subtype="PCM_24"), 3.0),
    "float32.wav": (lambda p: sf.write(p, TONE, 48000, subtype="FLOAT"), 3.0),
    "float64.wav": (lambda p: sf.write(p, TONE, 48000, subtype="DOUBLE"), 3.0),
    "six-channels.wav": (lambda p: sf.write(p, np.tile(TONE[:, None], (1, 6)), 48000), 3.0),
    "2kHz.aiff": (lambda p: sf.write(p, sine(440, 2.0, 2000), 2000), 2.0),
    "96kHz.flac": (lambda p: sf.write(p, sine(440, 2.0, 96000), 96000), 2.0),
    "vorbis.ogg": (lambda p: sf.write(p, TONE, 48000), 3.0),
    "voice-memo.opus": (lambda p: sf.write(p, TONE, 48000, format="OGG", subtype="OPUS"), 3.0),
}


@pytest.mark.parametrize("name", READABLE)
def test_formats_depths_channels_and_rates_read_as_the_same_tone(tmp_path, name):
    write, seconds = READABLE[name]
    write(tmp_path / name)
    x = decode_audio(tmp_path / name, RATE)
    assert abs(len(x) / RATE - seconds) < 0.03
    assert abs(dominant_hz(x, RATE) - 440) < 5
    assert 0.45 < np.percentile(np.abs(x), 99.9) < 0.56  # the tone's amplitude, 0.5, whatever the sample format


def test_full_scale_clipping_and_a_clip_shorter_than_one_frame_are_read_as_they_are(tmp_path):
    sf.write(tmp_path / "clipped.wav", np.clip(TONE * 4, -1, 1), 48000)
    sf.write(tmp_path / "tiny.wav", TONE[:100], 48000)  # 2 ms, shorter than one 25 ms STFT frame
    assert np.abs(decode_audio(tmp_path / "clipped.wav", RATE)).max() > 0.99
    assert len(decode_audio(tmp_path / "tiny.wav", RATE)) == pytest.approx(100 / 3, abs=2)


def _unreadable(d):
    sf.write(d / "header-only.wav", np.zeros(0, np.float32), RATE)
    damaged = TONE.copy()
    damaged[48000 + 5], damaged[60000] = np.nan, np.inf
    sf.write(d / "nan.wav", damaged, 48000, subtype="FLOAT")
    (d / "empty.wav").write_bytes(b"")
    (d / "notes.mp3").write_text("field notes, not audio\n" * 20)
    os.symlink(d / "moved-away.wav", d / "dangling.wav")
    (d / "folder.wav").mkdir()
    return {"header-only.wav": "contains no audio samples",
            "nan.wav": "2 sample(s) are NaN (1) or infinite (1), the first at 1.000 s (a float file",
            "empty.wav": "empty file (0 bytes)",
            "notes.mp3": "not an audio file",
            "dangling.wav": f"a link to {d / 'moved-away.wav'}, which does not exist",
            "folder.wav": "is a folder, not an audio file"}


def test_input_that_cannot_be_read_is_one_line_naming_the_file_and_the_reason(tmp_path):
    for name, reason in _unreadable(tmp_path).items():
        with pytest.raises(AudioDecodeError) as err:
            decode_audio(tmp_path / name, RATE)
        message = str(err.value)
        assert message.startswith(f"{tmp_path / name}: ") and reason in message and "\n" not in message


def test_a_truncated_mp3_is_read_as_far_as_it_goes_with_a_warning(tmp_path):
    sf.write(tmp_path / "full.mp3", TONE, 48000)
    data = (tmp_path / "full.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 3])
    with pytest.warns(AudioWarning, match=r"cut.mp3: truncated: read 0\.\d s of the 3.0 s"):
        x = decode_audio(tmp_path / "cut.mp3", RATE)
    assert 0.5 < len(x) / RATE < 1.5 and abs(dominant_hz(x, RATE) - 440) < 5


def test_a_folder_gives_its_audio_and_names_the_audio_it_cannot_read(tmp_path):
    sf.write(tmp_path / "a.wav", TONE, 48000)
    sf.write(tmp_path / "B.FLAC", TONE, 48000)
    for name in ["notes.txt", "calls.csv", "recorder.log", ".DS_Store", "phone.m4a"]:
        (tmp_path / name).write_text("x")
    assert list_audio_files(tmp_path) == [tmp_path / "B.FLAC", tmp_path / "a.wav"]
    with pytest.warns(AudioWarning, match=r"1 file\(s\) in a format not read here, left out: phone.m4a"):
        assert expand_audio_paths([tmp_path]) == [tmp_path / "B.FLAC", tmp_path / "a.wav"]


def test_subfolders_with_audio_are_named_not_passed_over(tmp_path):
    for site in ["site1", "site2"]:
        (tmp_path / site).mkdir()
        sf.write(tmp_path / site / "20240101_050000.wav", TONE, 48000)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "field notes.txt").write_text("x")
    sf.write(tmp_path / "a.wav", TONE, 48000)
    with pytest.warns(AudioWarning, match=r"2 subfolder\(s\) with audio in them not read: site1, site2 \(give them too"):
        assert expand_audio_paths([tmp_path]) == [tmp_path / "a.wav"]
    assert expand_audio_paths([tmp_path / "site1"]) == [tmp_path / "site1" / "20240101_050000.wav"]  # no warning

def test_hidden_files_macos_leaves_beside_each_file_are_not_recordings_tables_or_classes(tmp_path):
    # Copied from a Mac to a memory card or USB drive, every file gets a `._NAME` twin of its details: a folder of
    # recordings counted each twin as a recording it could not read (exit status 1), and training stopped on the
    # labels folder's `._NAME.Table.1.selections.txt`, "not a Raven selection table" (2026-12-07).
    details = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(4000)
    recs = tmp_path / "recs"
    recs.mkdir()
    sf.write(recs / "rec_07.wav", TONE, 48000)
    (recs / "._rec_07.wav").write_bytes(details)
    (recs / ".Trashes").mkdir()
    sf.write(recs / ".Trashes" / "old.wav", TONE, 48000)
    assert expand_audio_paths([recs]) == [recs / "rec_07.wav"]  # and no warning of a subfolder with audio
    assert expand_audio_paths([recs / "._rec_07.wav"]) == [recs / "._rec_07.wav"]  # named on its own, it is read

    header = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\n"
    (tmp_path / "labels").mkdir()
    table = _labels(tmp_path / "labels", header + "1\tSpectrogram 1\t1\t1.5\t2.5\n", "rec_07.Table.1.selections.txt")
    (table.parent / f"._{table.name}").write_bytes(details)
    assert read_call_labels(table.parent).to_dict("records") == [
        {"recording": "rec_07", "start": 1.5, "end": 2.5, "confidence": "sure"}]

    clips = tmp_path / "clips"
    for kind in ["dog", "rain", ".ipynb_checkpoints"]:
        for i in range(2):
            (clips / kind).mkdir(parents=True, exist_ok=True)
            sf.write(clips / kind / f"{kind.strip('.')}-{i}.wav", TONE, 16000)
        (clips / kind / f"._{kind}-0.wav").write_bytes(details)
    table, classes = clips_from_folders(clips)
    assert classes == ["dog", "rain"] and len(table) == 4, table


def test_a_file_given_twice_is_read_once(tmp_path, monkeypatch):
    # Counted twice under one name, its windows were merged with their own copies: 7 calls became 0 and 0 (2026-12-07).
    data = tmp_path / "data"
    data.mkdir()
    sf.write(data / "a.wav", TONE, 48000)
    sf.write(data / "b.wav", TONE, 48000)
    (data / "c.wav").symlink_to(data / "b.wav")  # another name: another recording, as a user may link one
    (tmp_path / "again").symlink_to(data)
    monkeypatch.chdir(tmp_path)
    given = [data / "a.wav", data, "./data/a.wav", "again/b.wav", "missing.wav", "missing.wav"]
    assert expand_audio_paths(given) == [data / "a.wav", data / "b.wav", data / "c.wav", Path("missing.wav")]


def test_inputs_stop_in_one_line_only_when_nothing_given_is_there(tmp_path):
    from data_pipeline.audio.decoding import audio_inputs

    sf.write(tmp_path / "a.wav", TONE, 48000)
    (tmp_path / "empty").mkdir()
    # One missing among files that are there: kept, to be reported as it is read while the rest are counted.
    assert audio_inputs([tmp_path / "a.wav", tmp_path / "b.wav"]) == [tmp_path / "a.wav", tmp_path / "b.wav"]
    with pytest.raises(FileNotFoundError, match=r"^no audio files in .*empty$"):
        audio_inputs([tmp_path / "empty"])
    with pytest.raises(FileNotFoundError, match=r"^b1.wav, b2.wav, b3.wav and 2 more: no such files$"):
        audio_inputs([f"b{i}.wav" for i in range(1, 6)])


def test_two_inputs_with_one_name_stop_counting_before_anything_is_written(tmp_path):
    for recorder in ["north", "south"]:
        (tmp_path / recorder).mkdir()
        sf.write(tmp_path / recorder / "20240101_050000.wav", TONE, 48000)
    proc = run_script("count_calls.py", "--input", "north", "south", "--model", "no-model-needed", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "share the file name '20240101_050000.wav'" in proc.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["north", "south"]



def test_two_inputs_named_alike_but_for_the_extension_stop_as_well(tmp_path):
    from data_pipeline.audio.decoding import require_unique_names

    # Both would write b.Table.1.selections.txt, and a label naming 'b' (a Raven table's stem) would mean either.
    with pytest.raises(ValueError, match=r"b.wav and .*b.flac share the name 'b' but for the extension"):
        require_unique_names([tmp_path / "a.wav", tmp_path / "b.wav", tmp_path / "b.flac"])
    require_unique_names([tmp_path / "a.wav", tmp_path / "a.wav.flac", tmp_path / "b.wav"])  # stems a, a.wav, b

@pytest.mark.parametrize("script, args, said", [
    ("count_calls.py", ["--input", "a.wav", "--model", "modle"],
     "modle: no such folder (--model takes a run folder written by train.py)"),
    ("count_calls.py", ["--input", "a.wav", "--model", "half"], "half: not a trained run folder (no model.keras)"),
    ("train.py", ["--data-dir", "dta"], "dta: no such folder. Expected the Kaggle layout"),
    ("tune.py", ["--data-dir", "dta"], "dta: no such folder. Expected the Kaggle layout"),
    ("tune.py", ["--max-epochs", "0"], "--max-epochs must be 1 or more, got 0"),
    # An input that is not there (a.wv for a.wav): the model loaded first, and then the file was found missing.
    ("count_calls.py", ["--input", "a.wv", "b.wav", "--model", "half"], "a.wv, b.wav: no such files"),
    ("predict.py", ["a.wv", "--model", "half"], "a.wv: no such file"),
    ("review.py", ["--input", "a.wv", "--model", "half"], "a.wv: no such file"),
    ("export_spectrograms.py", ["a.wv", "--out", "pictures"], "a.wv: no such file"),
    ("count_calls.py", [], "data/Forest Recordings: no such folder (the default --input: the challenge's recordings "
                           "unzipped into data/); give the recordings to count with --input"),
    # A folder to write a CSV to: said now, where the write failed once every recording was counted.
    ("count_calls.py", ["--input", "a.wav", "--model", "half", "--output", "half"],
     "argument --output: half is a folder; give the file to write, e.g. half/counts.csv"),
    ("predict.py", ["a.wav", "--model", "half", "--output", "scores/"], "argument --output: scores/ is a folder"),
    ("count_calls.py", ["--input", "a.wav", "--model", "half", "--output", "c.csv", "--events", "./c.csv"],
     "--events and --output both name c.csv: the calls would be written over the counts"),
])
def test_a_mistyped_path_is_one_line_before_tensorflow_loads(tmp_path, script, args, said):
    """Said at once (0.15-0.5 s here), not after the 2-4 s TensorFlow (and keras-tuner) take to import."""
    import subprocess
    import sys

    from conftest import ROOT

    sf.write(tmp_path / "a.wav", TONE, 48000)
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "detector.json").write_text("{}")
    path = str(ROOT / script)
    code = (f"import runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\nsys.argv = [{path!r}, *sys.argv[1:]]\n"
            f"try:\n    runpy.run_path({path!r}, run_name='__main__')\n"
            "except SystemExit as stop:\n    print(stop.code, 'tensorflow' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout.split() == ["2", "False"], proc.stdout + proc.stderr
    assert said in proc.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "half"]  # nothing written


def test_counting_a_folder_of_good_and_bad_files_counts_the_good_and_names_each_bad_one(tmp_path, untrained_model):
    folder = tmp_path / "recorder"
    folder.mkdir()
    reasons = _unreadable(folder)
    for name in ["good.wav", "also_good.flac"]:
        sf.write(folder / name, TONE, 48000)
    sf.write(folder / "tiny.wav", TONE[:100], 48000)
    (folder / "notes.txt").write_text("not audio, not counted, not reported")
    proc = run_script("count_calls.py", "--input", folder, "--model", untrained_model, "--output", "counts.csv", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr  # 1: something was skipped
    skipped = [line for line in proc.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == len(reasons)
    assert "3 recording(s) counted (0 of them resumed from an earlier run), 6 skipped" in proc.stderr
    for name, reason in reasons.items():
        said = [line for line in skipped if line.startswith(f"skipped: {folder / name}: ")]
        assert len(said) == 1 and reason in said[0], (name, skipped)
    counts = pd.read_csv(tmp_path / "counts.csv")
    assert list(counts["clip_name"]) == ["also_good.flac", "good.wav", "tiny.wav"]
    assert (counts.loc[counts["clip_name"] == "tiny.wav", "call_count"] == 0).all()  # no call outlasts its recording


def test_predict_on_nothing_readable_writes_nothing(tmp_path, untrained_model):
    (tmp_path / "notes.mp3").write_text("field notes, not audio\n")
    proc = run_script("predict.py", "notes.mp3", "--model", untrained_model, "--output", "scores.csv", cwd=tmp_path)
    assert proc.returncode == 2 and "none of the 1 file(s) could be read, so nothing was written" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "scores.csv").exists()


def _labels(tmp_path, text, name="calls.csv"):
    (tmp_path / name).write_text(text)
    return tmp_path / name


@pytest.mark.slow  # trains a network for one epoch
@pytest.mark.parametrize("label,file_name", [("negative", "bg0-1.wav"), ("positive", "call0-1.wav")])
def test_training_skips_the_clips_of_a_file_it_cannot_read_and_says_which(tmp_path, capsys, label, file_name):
    """One unreadable clip among many: its row is marked unused and reported, every other clip trains or is
    scored in whichever split it was dealt to (a call clip too: the pulse gate's measure of the calls skips it)."""
    import json

    from conftest import two_class_clips

    from data_pipeline.labels.class_folders import clips_from_folders
    from model.learning.training import TrainConfig, train

    two_class_clips(tmp_path / "data", 24, seed=2)
    broken = tmp_path / "data" / label / file_name
    broken.write_bytes(b"RIFF, but nothing an audio reader could take")
    clips, classes = clips_from_folders(tmp_path / "data")
    train(clips, classes, tmp_path / "run", TrainConfig(epochs=1, verbose=0, negative_bank_per_kind=0))
    split = pd.read_csv(tmp_path / "run" / "split.csv")
    assert list(split.loc[~split["used"], "file"]) == [str(broken)]
    report = json.loads((tmp_path / "run" / "test_metrics.json").read_text())
    assert len(report["failures"]) == 1 and report["failures"][0].startswith(f"{broken}: ")
    assert f"skipped {broken}: " in capsys.readouterr().out
    assert report["clips_per_label"] == {"negative": 24, "positive": 24, label: 23}
    for name, split_name in (("validation", "val"), ("test", "test")):  # every usable clip scored, the broken one in none
        assert report[name]["clips"] == int((split["used"] & (split["split"] == split_name)).sum())
    predicted = pd.read_csv(tmp_path / "run" / "predictions.csv")
    assert str(broken) not in set(predicted["file"])


@pytest.mark.parametrize("rows,message", [
    ("a.wav,5,3,sure", "row 2 ends before it starts"),
    ("a.wav,-1,3,sure", "row 2 starts before the recording does (-1 s)"),
    ("a.wav,1,3,sure\na.wav,4,1:05,sure", "row 3 has a start or end time that is not a number"),
    ("a.wav,1,3,maybe", "confidence must be one of ('sure', 'faint', 'none'); row 2 has 'maybe'"),
])
def test_labels_that_cannot_be_right_stop_with_the_row(tmp_path, rows, message):
    path = _labels(tmp_path, "recording,start,end,confidence\n" + rows + "\n")
    with pytest.raises(ValueError, match=f"^{tmp_path / 'calls.csv'}: " + message.replace("(", r"\(").replace(")", r"\)")):
        read_call_labels(path)



@pytest.mark.parametrize("saved_as, data", [
    ("Excel's CSV UTF-8: a byte-order mark, CRLF", "\ufeffrecording,start,end\r\n0001.wav,7.5,12.25\r\n".encode()),
    ("';'-separated, decimal commas", "recording;start;end;note\n0001.wav;7,5;12.25;a, b\n".encode()),
    ("tab-separated, capitalised header", "Recording\tStart \tEnd\n0001.wav\t7.5\t12.25\n".encode()),
    ("Windows-1252", 'recording,start,end,note\n0001.wav,7.5,12.25,"canto distante, não"\n'.encode("cp1252")),
])
def test_labels_saved_by_a_spreadsheet_read_as_written(tmp_path, capsys, saved_as, data):
    (tmp_path / "calls.csv").write_bytes(data)
    table = read_call_labels(tmp_path / "calls.csv")
    assert table.to_dict("records") == [{"recording": "0001.wav", "start": 7.5, "end": 12.25, "confidence": "sure"}], saved_as
    said = capsys.readouterr().out
    assert ("read as Windows-1252" in said) == (saved_as == "Windows-1252")


@pytest.mark.parametrize("text, message", [
    ("", "empty; labels need a header line recording,start,end[,confidence]"),
    ("recording,start,end\na.wav,1,5\na.wav,7,9,faint call\n", "line 3 has 4 fields where the first has 3 (a ',' inside"),
])
def test_labels_that_cannot_be_read_as_a_table_stop_naming_the_file(tmp_path, text, message):
    pattern = "^" + re.escape(f"{tmp_path / 'calls.csv'}: {message}")
    with pytest.raises(ValueError, match=pattern):
        read_call_labels(_labels(tmp_path, text))
    (tmp_path / "calls.csv").write_bytes(b"recording,start,end\n\x81\x8d.wav,1,5\n")  # bytes neither code page has
    with pytest.raises(ValueError, match="not text in UTF-8 or Windows-1252"):
        read_call_labels(tmp_path / "calls.csv")
RAVEN_HEADER = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\n"


@pytest.mark.parametrize("rows,message", [
    ("1\tSpectrogram 1\t1\t5\t3\n", "row 2 ends before it starts"),
    ("1\tSpectrogram 1\t1\t1\t3\n2\tSpectrogram 1\t1\t-0.5\t3\n", "row 3 starts before the recording does (-0.5 s)"),
    ("1\tSpectrogram 1\t1\t1,5\t3\n", "row 2 has a start or end time that is not a number"),
])
def test_raven_tables_that_cannot_be_right_stop_with_the_row(tmp_path, rows, message):
    path = _labels(tmp_path, RAVEN_HEADER + rows, "a.Table.1.selections.txt")
    with pytest.raises(ValueError, match=f"^{path}: " + message.replace("(", r"\(").replace(")", r"\)")):
        read_call_labels(path)


def test_a_call_labelled_twice_is_one_call_and_said(tmp_path, capsys):
    table = read_call_labels(_labels(tmp_path, "recording,start,end\na.wav,1,5\nb.wav,1,5\na.wav,9,12\na.wav,1,5\n"))
    assert table[["recording", "start"]].values.tolist() == [["a.wav", 1], ["b.wav", 1], ["a.wav", 9]]
    said = capsys.readouterr().out
    assert "1 row(s) repeat a call of the rows before, e.g. row 5; each call read once" in said and "overlap" not in said


def test_overlapping_calls_are_kept_and_said(tmp_path, capsys):
    table = read_call_labels(_labels(tmp_path, "recording,start,end\na.wav,1,5\na.wav,4,8\na.wav,9,12\nb.wav,4,6\n"))
    assert len(table) == 4
    assert "1 labelled call(s) overlap the one before, e.g. a.wav at 4 s; kept as separate calls" in capsys.readouterr().out
    raven = _labels(tmp_path, RAVEN_HEADER + "1\tSpectrogram 1\t1\t1\t5\n2\tSpectrogram 1\t1\t4\t8\n", "b.Table.1.selections.txt")
    assert len(read_call_labels(raven)) == 2
    assert "1 labelled call(s) overlap the one before, e.g. b at 4 s" in capsys.readouterr().out


def test_a_selection_raven_lists_in_two_views_and_two_channels_is_one_call(tmp_path, capsys):
    header = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tSpecies\n"
    rows = ["1\tWaveform 1\t1\t1.5\t4.25\tCAPU", "1\tSpectrogram 1\t1\t1.5\t4.25\tCAPU",
            "1\tSpectrogram 1\t2\t1.5\t4.25\tCAPU", "2\tWaveform 1\t1\t9\t12\tCAPU", "2\tSpectrogram 1\t1\t9\t12\tCAPU"]
    table = read_call_labels(_labels(tmp_path, header + "\n".join(rows) + "\n", "site3_0500.Table.1.selections.txt"))
    assert table[["start", "end"]].values.tolist() == [[1.5, 4.25], [9, 12]]
    assert capsys.readouterr().out == ""  # no overlap, one kind
    rows[3:] = ["2\tWaveform 1\t1\t9\t12\tHOWL", "2\tSpectrogram 1\t1\t9\t12\tHOWL"]
    assert len(read_call_labels(_labels(tmp_path, header + "\n".join(rows) + "\n", "site3_0500.Table.1.selections.txt"))) == 2
    assert "its 'Species' column names 2 kinds (CAPU, HOWL), but every selection is read as a call" in capsys.readouterr().out

def test_raven_tables_with_extra_columns_read_their_times(tmp_path):
    header = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tLow Freq (Hz)\tHigh Freq (Hz)\tSpecies\tNotes\n"
    path = _labels(tmp_path, header + "1\tSpectrogram 1\t1\t1.5\t4.25\t500\t2500\tCAPU\tloud\n",
                   "site3_0500.Table.1.selections.txt")
    table = read_call_labels(path)
    assert table.to_dict("records") == [{"recording": "site3_0500", "start": 1.5, "end": 4.25, "confidence": "sure"}]


def test_a_raven_table_over_several_files_gives_each_call_its_own_file_and_time_in_it(tmp_path, capsys):
    # Raven opens a day of 10-minute files as one sound, and BirdNET combines its tables likewise: `Begin Time (s)`
    # runs on from file to file, `File Offset (s)` is the time inside `Begin File` (or `Begin Path`). Read by Begin
    # Time, the second file's call was labelled at 605 s of a 600 s recording (2026-12-07).
    header = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tBegin File\tFile Offset (s)\n"
    rows = ["1\tSpectrogram 1\t1\t12.5\t16.0\t20240101_050000.wav\t12.5",
            "2\tSpectrogram 1\t1\t605.0\t609.25\t20240101_051000.wav\t5.0"]
    table = read_call_labels(_labels(tmp_path, header + "\n".join(rows) + "\n", "day.Table.1.selections.txt"))
    assert table.values.tolist() == [["20240101_050000.wav", 12.5, 16.0, "sure"], ["20240101_051000.wav", 5.0, 9.25, "sure"]]
    header = "Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\tCommon Name\tBegin Path\tFile Offset (s)\n"
    rows = ["1\tSpectrogram 1\t1\t12.5\t15.5\tCapuchinbird\tD:\\season\\a.wav\t12.5",
            "2\tSpectrogram 1\t1\t192.0\t195.0\tCapuchinbird\tD:\\season\\b.wav\t12.0"]
    table = read_call_labels(_labels(tmp_path, header + "\n".join(rows) + "\n", "BirdNET_CombinedTable.txt"))
    assert table.values.tolist() == [["a.wav", 12.5, 15.5, "sure"], ["b.wav", 12.0, 15.0, "sure"]]
    rows[1] = rows[1].replace("Capuchinbird", "Screaming Piha")  # BirdNET lists every species it heard
    read_call_labels(_labels(tmp_path, header + "\n".join(rows) + "\n", "BirdNET_CombinedTable.txt"))
    assert "its 'Common Name' column names 2 kinds (Capuchinbird, Screaming Piha)" in capsys.readouterr().out


def test_labels_past_a_recordings_end_naming_a_missing_file_or_an_ambiguous_one_stop_training(tmp_path):
    sf.write(tmp_path / "a.wav", sine(1000, 20.0, RATE), RATE)
    past = read_call_labels(_labels(tmp_path, "recording,start,end\na.wav,2,6\na.wav,25,29\n"))
    with pytest.raises(ValueError, match=r"a.wav lasts 20.0 s, but 1 call\(s\) are labelled after its end .*not in seconds"):
        clips_from_annotations([tmp_path / "a.wav"], past, 3.0)
    assert calls_past_the_end(read_call_labels(_labels(tmp_path, "recording,start,end\na.wav,17,22\n")), {"a.wav": 20.0}) \
        == ["a.wav lasts 20.0 s, but a labelled call ends at 22 s"]
    (tmp_path / "b").mkdir()
    sf.write(tmp_path / "b" / "a.wav", sine(1000, 20.0, RATE), RATE)
    with pytest.raises(ValueError, match="share the file name 'a.wav'"):  # which one would the labels mean?
        clips_from_annotations([tmp_path / "a.wav", tmp_path / "b" / "a.wav"], past, 3.0)
    typo = read_call_labels(_labels(tmp_path, "recording,start,end\na.wav,2,6\nA1.wav,2,6\n"))
    with pytest.raises(ValueError, match=r"labels name 'A1.wav', which is not among the 1 recordings given.*"
                                         r"--allow-missing-recordings"):
        clips_from_annotations([tmp_path / "a.wav"], typo, 3.0)


@pytest.mark.parametrize("option,value,message", [
    ("--hard-negative-rounds", "0", "hard_negative_rounds must be 1 or more, got 0"),
    ("--hard-negative-threshold", "1.5", "hard_negative_threshold is a call probability, 0 to 1; got 1.5"),
    ("--hard-negative-pool-per-kind", "-1", "hard_negative_pool_per_kind must be 0 or more, got -1"),
    ("--epochs", "0", "epochs must be 1 or more, got 0"),  # was a KeyError traceback after loading the data
    ("--batch-size", "0", "batch_size must be 1 or more, got 0"),  # was a TensorFlow traceback
    ("--patience", "-1", "patience must be 0 or more, got -1"),  # was taken as given
    ("--learning-rate", "-0.001", "learning_rate must be above 0, got -0.001"),  # was gradient ascent
    ("--freeze-epochs", "-1", "freeze_epochs must be 0 or more, got -1"),
    ("--folds", "1", "--folds must be 2 or more (cross-validation holds each fold out once), got 1"),
    ("--folds", "0", "--folds must be 2 or more (cross-validation holds each fold out once), got 0"),  # was one model
])
def test_training_settings_out_of_range_stop_before_training(tmp_path, option, value, message):
    proc = run_script("train.py", "--data-dir", tmp_path / "data", "--run-dir", tmp_path / "run", option, value,
                      cwd=tmp_path)
    assert proc.returncode == 2 and f"error: {message}" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "run").exists()  # nothing written


def test_a_bank_asked_of_a_front_end_too_slow_for_it_stops_before_training(tmp_path):
    proc = run_script("train.py", "--data-dir", tmp_path / "data", "--run-dir", tmp_path / "run", "--preset", "heart",
                      "--negative-bank-per-kind", "8", cwd=tmp_path)
    said = "error: the generated non-call bank needs a sample rate of 3750 Hz or more (its sounds reach 1.5 kHz and up)"
    assert proc.returncode == 2 and said in proc.stderr and "reads 2000 Hz" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "run").exists()


@pytest.mark.parametrize("setting,message", [
    ({"threshold": 1.5}, "threshold is a window's call probability, 0 to 1; got 1.5"),
    ({"threshold": -0.1}, "threshold is a window's call probability, 0 to 1; got -0.1"),
    ({"min_gap_s": -1.0}, "min_gap_s must be 0 seconds or more, got -1.0"),
    ({"min_call_s": -2.0}, "min_call_s must be 0 seconds or more, got -2.0"),
    ({"smooth_windows": 2}, "smooth_windows must be odd (1: no smoothing), got 2"),
    ({"smooth_windows": 0}, "smooth_windows must be odd (1: no smoothing), got 0"),
    ({"max_pulse_spread_db": -3.0}, "max_pulse_spread_db must be 0 dB (no gate) or more, got -3.0"),
    ({"join_within_s": -1.0}, "join_within_s must be 0 seconds or more, got -1.0"),
])
def test_counting_settings_out_of_range_are_refused(setting, message):
    from model.detection.events import CountingConfig

    with pytest.raises(ValueError) as err:
        CountingConfig().overridden(**setting)  # what count_calls.py and review.py do with their flags
    assert str(err.value) == message
    assert CountingConfig().overridden(threshold=1.0, min_gap_s=0.0, min_call_s=0.0, smooth_windows=1).threshold == 1.0


def test_count_calls_refuses_a_threshold_out_of_range_before_writing_anything(tmp_path, untrained_model):
    sf.write(tmp_path / "a.wav", TONE, 48000)
    proc = run_script("count_calls.py", "--input", "a.wav", "--model", untrained_model, "--output", "out/counts.csv",
                      "--threshold", "50", cwd=tmp_path)  # a percentage where a probability belongs
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "error: threshold is a window's call probability, 0 to 1; got 50.0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]


@pytest.mark.parametrize("setting,message", [({"max_trials": 0}, "--max-trials must be 1 or more, got 0"),
                                             ({"max_epochs": 0}, "--max-epochs must be 1 or more, got 0")])
def test_sweep_settings_out_of_range_stop_before_any_trial(tmp_path, setting, message):
    from model.learning.sweep import run_sweep

    def no_data(clip_s):
        raise AssertionError("the settings are checked before any data is read")

    with pytest.raises(ValueError) as err:  # --max-trials 0 ran Hyperband's 30 trials; --max-epochs 0 an IndexError
        run_sweep(no_data, ["no call", "call"], tmp_path / "sweep", **setting)
    assert str(err.value) == message and not (tmp_path / "sweep").exists()


def test_tune_refuses_a_setting_out_of_range_before_reading_its_data(tmp_path):
    # The data folder is missing too: the setting must be what stops it (tune.py read every clip first).
    proc = run_script("tune.py", "--data-dir", "no-such-folder", "--out", "sweep", "--max-trials", "0", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "error: --max-trials must be 1 or more, got 0"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option,value,message", [("--random", "-1", "--random is a number of stretches, 0 or more; got -1"),
                                                  ("--port", "70000", "--port must be between 0 and 65535, got 70000")])
def test_review_settings_out_of_range_stop_before_serving(tmp_path, option, value, message):
    proc = run_script("review.py", "--input", "rec", "--model", "no-model-needed", option, value, cwd=tmp_path)
    assert proc.returncode == 2 and f"error: {message}" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not (SHARED / "forest" / "calls.csv").exists(), reason="shared forest recordings absent")
@pytest.mark.parametrize("size", ["2", "99", "ten"])
def test_a_learning_curve_size_that_cannot_be_drawn_stops_before_training(tmp_path, size):
    # 99 was trained on every recording and reported as a row named 99; 2 failed after the data was read.
    proc = run_script("benchmarks/learning_curve.py", "--shared", SHARED, "--run-dir", tmp_path / "curve",
                      "--sizes", "3", size, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (f"error: --sizes {size}: give 'all' or a number of recordings from 3 "
                                                    "(the first three hold calls from three families) to 29 (the fewest "
                                                    "outside any fold)")
    assert list(tmp_path.iterdir()) == []


def test_pseudo_label_scores_out_of_order_stop_the_learning_curve_before_training(tmp_path):
    sure, unsure = "0.5", "0.9"  # every other order: tests/test_pseudo_labels.py
    proc = run_script("benchmarks/learning_curve.py", "--shared", SHARED, "--run-dir", tmp_path / "curve", "--sizes", "7",
                      "--self-train", "--pseudo-sure-score", sure, "--pseudo-unsure-score", unsure, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (f"error: --pseudo-unsure-score {float(unsure):g} and --pseudo-sure-score "
                                                    f"{float(sure):g}: give 0 < unsure <= sure <= 1")
    assert list(tmp_path.iterdir()) == []


def test_a_scheduler_address_nothing_listens_on_is_one_line_at_once(tmp_path):
    """Dask's client retried a refused connection for 10 s; the probe tells at once, and only where it can try."""
    import json
    import socket

    from model.detection.cluster_counting import check_scheduler_listens

    with socket.create_server(("127.0.0.1", 0)) as listening:  # stands for a scheduler: it accepts connections
        port = listening.getsockname()[1]
        for address in [f"tcp://127.0.0.1:{port}", f"127.0.0.1:{port}", f"tls://127.0.0.1:{port}"]:
            check_scheduler_listens(address)
        (tmp_path / "scheduler.json").write_text(json.dumps({"address": f"tcp://127.0.0.1:{port}"}))
        check_scheduler_listens(str(tmp_path / "scheduler.json"))
    # now nothing listens there: a mistyped port, or the file of a scheduler that has ended
    for given in [f"tcp://127.0.0.1:{port}", str(tmp_path / "scheduler.json")]:
        with pytest.raises(ValueError, match=rf"^--scheduler .*: no Dask scheduler answered at 127.0.0.1:{port} "
                                             r"\(nothing listens there\)$"):
            check_scheduler_listens(given)
    with pytest.raises(ValueError, match=r"'tcp://127.0.0.1:80a' is not a Dask address"):
        check_scheduler_listens("127.0.0.1:80a")
    # Nothing to try: another protocol, or a file the scheduler is still writing (Dask's client waits for it).
    (tmp_path / "half.json").write_text('{"addr')
    for given in ["inproc://127.0.0.1/1/1", str(tmp_path / "half.json")]:
        check_scheduler_listens(given)
