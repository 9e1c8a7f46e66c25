"""Dataset readers: each layout the issue names, read from small files with known labels."""

import numpy as np
import pandas as pd
import pytest
from conftest import sine

from data_pipeline.labels.labelled_files import (
    DatasetError,
    cut_into_windows,
    read_label_csv,
    read_labelled_files,
)


def test_physionet_reference_without_header_maps_minus_one_to_normal(tmp_path, write_audio):
    for name in ("a0001", "a0002", "a0003"):
        write_audio(f"{name}.wav", sine(100, 1.0, 2000), 2000)
    (tmp_path / "REFERENCE.csv").write_text("a0001,1\na0002,-1\na0003,-1\n")
    table, classes = read_labelled_files(tmp_path)
    assert classes == ["normal", "abnormal"]  # negative first: abnormal is the binary model's class 1
    assert list(table["label"]) == ["abnormal", "normal", "normal"]
    assert list(table["group"]) == ["a0001", "a0002", "a0003"] and table["fold"].isna().all()
    assert table["file"].str.endswith(".wav").all()


def test_esc50_layout_keeps_folds_and_groups_by_source_file(tmp_path, write_audio):
    (tmp_path / "audio").mkdir()
    (tmp_path / "meta").mkdir()
    rows = [("1-1-A-0.wav", 1, 0, "background", "False", "s1", "A"), ("1-2-A-1.wav", 1, 1, "glass_break", "False", "s2", "A"),
            ("2-3-A-1.wav", 2, 1, "glass_break", "False", "s2", "B")]
    for r in rows:
        write_audio(f"audio/{r[0]}", sine(440, 1.0, 16000), 16000)
    pd.DataFrame(rows, columns=["filename", "fold", "target", "category", "esc10", "src_file", "take"]).to_csv(
        tmp_path / "meta" / "esc50.csv", index=False)
    table, classes = read_labelled_files(tmp_path)
    assert classes == ["background", "glass_break"]
    assert list(table["fold"]) == [1, 1, 2] and list(table["group"]) == ["s1", "s2", "s2"]


def test_freesound_csv_and_kaggle_whale_layouts(tmp_path, write_audio):
    from data_pipeline.synthetic.other_datasets import write_whale_dataset

    (tmp_path / "fs" / "audio_train").mkdir(parents=True)
    for name in ("a.wav", "b.wav", "c.wav"):
        write_audio(f"fs/audio_train/{name}", sine(440, 0.5, 16000), 16000)
    (tmp_path / "fs" / "train.csv").write_text("fname,label,manually_verified\na.wav,Violin,1\nb.wav,Bark,0\nc.wav,Violin,1\n")
    table, classes = read_labelled_files(tmp_path / "fs")
    assert classes == ["Bark", "Violin"] and list(table["label"]) == ["Violin", "Bark", "Violin"]

    truth = write_whale_dataset(tmp_path / "whale", n_clips=8, seed=0, upcall_fraction=0.5)
    assert 0 < truth["label"].sum() < 8
    table, classes = read_labelled_files(tmp_path / "whale")
    assert classes == ["no_upcall", "upcall"]
    assert list(table["label"]) == [classes[v] for v in truth["label"]]
    assert table["file"].str.endswith(".aiff").all()


def test_missing_file_and_single_class_errors_name_the_csv(tmp_path, write_audio):
    write_audio("x.wav", sine(440, 0.5, 16000), 16000)
    csv = tmp_path / "labels.csv"
    csv.write_text("file,label\nx.wav,dog\ny.wav,cat\n")
    with pytest.raises(DatasetError, match=r"labels.csv: 1 of 2 listed files are not in .* \(e.g. y.wav\)"):
        read_label_csv(csv)
    csv.write_text("file,label\nx.wav,dog\n")
    with pytest.raises(DatasetError, match="labels.csv: found one class only"):
        read_label_csv(csv)
    csv.write_text("path;species\nx.wav;dog\n")
    with pytest.raises(DatasetError, match="need a file column"):
        read_label_csv(csv)


def test_long_files_are_cut_into_windows_that_reach_the_end(tmp_path, write_audio):
    long = write_audio("long.wav", np.zeros(int(7.3 * 2000), np.float32), 2000)
    short = write_audio("short.wav", np.zeros(2000, np.float32), 2000)
    table = pd.DataFrame({"file": [str(long), str(short)], "start": 0.0, "label": ["abnormal", "normal"],
                          "group": ["long", "short"], "fold": np.nan})
    windows = cut_into_windows(table, clip_s=3.0, hop_s=1.5)
    assert list(windows["start"]) == [0.0, 1.5, 3.0, 4.3, 0.0]  # the last window ends at the end, as in predict.py
    assert list(windows["label"]) == ["abnormal"] * 4 + ["normal"] and list(windows["group"]) == ["long"] * 4 + ["short"]


def test_a_file_list_saved_by_a_spreadsheet_reads_as_written(tmp_path, write_audio, capsys):
    # ';'-separated, Windows-1252 (an accented name), a headerless variant: as Excel on Windows saves them.
    for name in ("canto_1.wav", "ruído_2.wav"):
        write_audio(name, sine(440, 1.0, 16000), 16000)
    (tmp_path / "files.csv").write_bytes("File;Label\ncanto_1.wav;call\nruído_2.wav;noise\n".encode("cp1252"))
    table, classes = read_label_csv(tmp_path / "files.csv")
    assert sorted(classes) == ["call", "noise"]
    assert [f.rsplit("/", 1)[-1] for f in table["file"]] == ["canto_1.wav", "ruído_2.wav"]
    assert "read as Windows-1252" in capsys.readouterr().out
    (tmp_path / "headerless.csv").write_text("canto_1.wav;call\nruído_2.wav;noise\n")
    assert sorted(read_label_csv(tmp_path / "headerless.csv")[1]) == ["call", "noise"]
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match=r"empty.csv: empty; a file column \(fname, "):
        read_label_csv(tmp_path / "empty.csv")
