"""Labelled calls in long recordings, as one table: recording, start, end, confidence.

Reads the project's CSV (`recording,start,end[,confidence][,note]`; a recording with no call has
one row with empty times and confidence `none`), as spreadsheets save it too (UTF-8 with or without a
byte-order mark, else Windows-1252; `;`-separated with decimal commas; headers in any case), and Raven
selection tables (tab-separated, with `Begin Time (s)` and `End Time (s)`, the recording from `Begin
File`, `Begin Path` or the table's own name, the time in it from `File Offset (s)` where a table runs over
several files; a selection listed once per view or channel is one call), Audacity label
tracks named `<recording stem>.labels.txt` (every label a sure call), one file or a folder of them.
`match_recordings` ties the names labels use to the recordings given: by file name, else by stem (Raven
names a table after the recording's stem), folders before the name left out (Windows' too), and says
which labelled names match nothing, with the nearest recording's name.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.audio.decoding import hidden
from data_pipeline.labels.class_folders import KAGGLE_CLASSES
from data_pipeline.labels.table_files import read_table, read_text

LABEL_COLUMNS = ["recording", "start", "end", "confidence"]
CONFIDENCES = ("sure", "faint", "none")
AUDACITY_SUFFIX = ".labels.txt"  # an Audacity label track, as count_calls.py names them: <recording stem>.labels.txt
# Column names Raven users give to what a selection is (a species code, a call type), and BirdNET's tables.
KIND_COLUMNS = ("annotation", "species", "class", "label", "call type", "sound type", "type", "common name",
                "species code", "scientific name")


def read_call_labels(path: str | os.PathLike) -> pd.DataFrame:
    """Labels table from a calls CSV, a Raven selection table, an Audacity label track or a folder of
    tables and tracks (see module doc)."""
    path = Path(path)
    if path.is_dir():
        texts = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".txt" and not hidden(p))
        tables = [p for p in texts if not _is_track(p)]
        # count_calls.py's OUTPUT_detections/ holds a table and a track of each recording: a track is read only
        # for a recording that has no table.
        tabled = {_table_recording(p) for p in tables}
        tracks = [p for p in texts if _is_track(p) and _track_recording(p) not in tabled]
        if not tables + tracks:
            raise FileNotFoundError(f"{path}: no Raven selection tables or Audacity label tracks (*.txt) in this folder")
        return pd.concat([_read_raven(p) for p in tables] + [_read_track(p) for p in tracks], ignore_index=True)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such labels file or folder")
    if path.suffix.lower() == ".txt":
        return _read_track(path) if _is_track(path) else _read_raven(path)
    table, sep = read_table(path, needs="labels need a header line recording,start,end[,confidence]")
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = {"recording", "start", "end"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: labels need columns recording,start,end[,confidence]; missing {sorted(missing)}")
    if sep == ";":  # where ',' is the decimal mark, spreadsheets save CSV with ';' between fields
        table[["start", "end"]] = table[["start", "end"]].apply(lambda col: col.str.replace(",", ".", regex=False))
    if "confidence" not in table:
        table["confidence"] = "sure"
    table["confidence"] = table["confidence"].fillna("sure").astype(str).str.strip().str.lower()
    table.loc[table["start"].isna(), "confidence"] = "none"
    bad = table[~table["confidence"].isin(CONFIDENCES)]
    if len(bad):
        raise ValueError(f"{path}: confidence must be one of {CONFIDENCES}; "
                         f"row {bad.index[0] + 2} has {bad['confidence'].iloc[0]!r}")
    return _checked(path, table[LABEL_COLUMNS])


def _checked(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    """The labels (one per row of the file, in order, a repeated row once) once every call's times make sense;
    says repeats and overlaps."""
    table = table.assign(start=pd.to_numeric(table["start"], errors="coerce"),
                         end=pd.to_numeric(table["end"], errors="coerce"))
    calls = table[table["confidence"] != "none"]
    for bad, problem in ((calls[["start", "end"]].isna().any(axis=1), "has a start or end time that is not a number"),
                         (calls["end"] <= calls["start"], "ends before it starts"),
                         (calls["start"] < 0, "starts before the recording does")):
        if bad.any():
            row = calls.index[bad.to_numpy()][0]
            where = f" ({calls.loc[row, 'start']:g} s)" if "recording does" in problem else ""
            raise ValueError(f"{path}: row {row + 2} {problem}{where}")
    repeated = table.duplicated(["recording", "start", "end"]) & (table["confidence"] != "none")
    if repeated.any():  # a row pasted twice: one call, or the evaluation would expect two
        print(f"warning: {path}: {repeated.sum()} row(s) repeat a call of the rows before, e.g. row "
              f"{table.index[repeated.to_numpy()][0] + 2}; each call read once")
        table = table[~repeated]
    _say_overlaps(path, table)
    return table.reset_index(drop=True)


def _say_overlaps(path: Path, table: pd.DataFrame) -> None:
    """Print one line when labelled calls overlap: kept as separate calls (two birds can call at
    once), but a detector finds one call there, so the count will be one short."""
    calls = table[table["confidence"] != "none"].sort_values(["recording", "start"])
    previous_end = calls.groupby("recording")["end"].shift().to_numpy()
    overlapping = calls[calls["start"].to_numpy() < previous_end]
    if len(overlapping):
        first = overlapping.iloc[0]
        print(f"warning: {path}: {len(overlapping)} labelled call(s) overlap the one before, e.g. {first['recording']} "
              f"at {first['start']:g} s; kept as separate calls, though a detector finds one call where calls overlap")


def calls_past_the_end(labels: pd.DataFrame, durations_s: dict[str, float]) -> list[str]:
    """One line per recording with a labelled call that starts after the recording ends (labels of
    another file, or times in other units), and one per recording whose calls run past its end."""
    problems = []
    calls = labels[labels["confidence"] != "none"]
    for name, rows in calls.groupby("recording", sort=True):
        duration = durations_s.get(name)
        if duration is None:
            continue
        after, over = rows[rows["start"] >= duration], rows[rows["end"] > duration + 0.5]
        if len(after):
            problems.append(f"{name} lasts {duration:.1f} s, but {len(after)} call(s) are labelled after its end "
                            f"(the first at {after['start'].min():g} s): labels of another recording, or times not in seconds?")
        elif len(over):
            problems.append(f"{name} lasts {duration:.1f} s, but a labelled call ends at {over['end'].max():g} s")
    return problems


def _read_raven(path: Path) -> pd.DataFrame:
    """One Raven selection table; an empty one says its recording holds no call."""
    needs = "a Raven selection table has a header line with 'Begin Time (s)' and 'End Time (s)'"
    try:
        table, _ = read_table(path, needs=needs, sep="\t")
    except pd.errors.ParserError as err:
        raise ValueError(f"{path}: not a Raven selection table ({str(err).strip().splitlines()[0]})") from None
    if not {"Begin Time (s)", "End Time (s)"} <= set(table.columns):
        raise ValueError(f"{path}: not a Raven selection table (needs 'Begin Time (s)' and 'End Time (s)' columns)")
    own_name = _table_recording(path)
    if len(table) == 0:
        return pd.DataFrame([(own_name, np.nan, np.nan, "none")], columns=LABEL_COLUMNS)
    # Raven lists a selection once for each view it shows in (Waveform 1, Spectrogram 1) and each channel: one call.
    table = table.drop_duplicates([c for c in ("Selection", "Begin File", "Begin Time (s)", "End Time (s)") if c in table])
    _say_kinds(path, table)
    named_by = next((c for c in ("Begin File", "Begin Path") if c in table), None)
    recording = table[named_by].map(lambda f: _base_name(str(f))) if named_by else own_name
    start, end = table["Begin Time (s)"], table["End Time (s)"]
    if "File Offset (s)" in table:  # a table over several files (Raven's file sequence, BirdNET's combined table)
        begin, offset = (pd.to_numeric(table[c], errors="coerce") for c in ("Begin Time (s)", "File Offset (s)"))
        start, end = offset, offset + pd.to_numeric(end, errors="coerce") - begin
    return _checked(path, pd.DataFrame({"recording": recording, "start": start, "end": end,
                                        "confidence": "sure"})[LABEL_COLUMNS])


def _table_recording(path: Path) -> str:
    """The recording a Raven table is named after: `rec_07` for Raven's own `rec_07.Table.1.selections.txt`,
    and for `rec_07.selections.txt` or `rec_07.txt`."""
    name = path.name
    if ".Table" in name:
        return name.split(".Table")[0]
    return name[: -len(".selections.txt")] if name.lower().endswith(".selections.txt") else path.stem


def _is_track(path: Path) -> bool:
    return path.name.lower().endswith(AUDACITY_SUFFIX)


def _track_recording(path: Path) -> str:
    return path.name[: -len(AUDACITY_SUFFIX)]


def _read_track(path: Path) -> pd.DataFrame:
    """One Audacity label track (File > Export > Export Labels, saved as `<recording stem>.labels.txt`): a
    line per label, start, end and text, tab-separated, no header; a spectral label's frequencies on a line
    of their own that starts with a backslash. Every label is a sure call; an empty track says its recording
    holds none."""
    recording, rows, lines = _track_recording(path), [], []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip() or line.startswith("\\"):
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise ValueError(f"{path}: line {number} is not an Audacity label (start, end and text, tab-separated)")
        rows.append((recording, fields[0], fields[1], "sure"))
        lines.append(number)
    if not rows:
        return pd.DataFrame([(recording, np.nan, np.nan, "none")], columns=LABEL_COLUMNS)
    return _checked(path, pd.DataFrame(rows, columns=LABEL_COLUMNS, index=np.array(lines) - 2))  # says "row <line>"


def _say_kinds(path: Path, table: pd.DataFrame) -> None:
    """One line when a column that names what each selection is holds several names (CAPU and HOWL): every
    selection is read as a call of the one kind a detector learns, so the others would be taught as calls."""
    for column in table.columns:
        if str(column).strip().lower() in KIND_COLUMNS:
            kinds = sorted(table[column].dropna().astype(str).str.strip().replace("", np.nan).dropna().unique())
            if len(kinds) > 1:
                shown = ", ".join(kinds[:4]) + (" ..." if len(kinds) > 4 else "")
                print(f"warning: {path}: its '{column}' column names {len(kinds)} kinds ({shown}), but every selection "
                      "is read as a call; keep only the calls' rows")


def _base_name(name: str) -> str:
    """A file name without its folders, whichever system wrote them: labels made on Windows
    (`D:\\season\\rec_07.wav`) name the recordings a Linux cluster counts."""
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def match_recordings(labels: pd.DataFrame, recordings: list[str | os.PathLike],
                     source: str = "labels") -> tuple[pd.DataFrame, list[str]]:
    """(labels naming the recordings given, renamed to their file names; one line per labelled name
    that matches no recording, with the nearest name).

    A name matches a recording by file name ('recording_23.mp3'), else by stem ('recording_23',
    as Raven names its tables). Rows of names that match nothing are left out of the table returned.
    """
    by_name = {Path(r).name: Path(r).name for r in recordings}
    by_stem = {Path(r).stem: Path(r).name for r in recordings}
    canonical, problems = {}, []
    for name in sorted(labels["recording"].astype(str).unique()):
        found = by_name.get(name) or by_stem.get(name) or by_stem.get(Path(_base_name(name)).stem)
        if found:
            canonical[name] = found
            continue
        nearest = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.6)
        hint = f"; did you mean {nearest[0]!r}?" if nearest else ""
        problems.append(f"{source} name {name!r}, which is not among the {len(by_name)} recordings given{hint}")
    names = labels["recording"].astype(str)
    kept = labels[names.isin(canonical)].copy()
    kept["recording"] = names[names.isin(canonical)].map(canonical)
    return kept.reset_index(drop=True), problems


def call_centres(start: float, end: float, first: float, last: float, margin_s: float, step_s: float) -> np.ndarray:
    """Centres of the call clips cut along one call (start-end): one every `step_s`, at least `margin_s`
    inside the call (labels are good to about 0.5 s), between the first and last centre a recording allows."""
    return np.arange(max(first, start + margin_s), min(last, end - margin_s) + 1e-9, step_s)


def clear_of(centres, intervals: np.ndarray, margin_s: float) -> np.ndarray:
    """The `centres` at least `margin_s` outside every (start, end) of `intervals` (touching is clear)."""
    centres = np.asarray(centres, float)
    clear = np.ones(len(centres), bool)
    for start, end in intervals:
        clear &= (centres <= start - margin_s) | (centres >= end + margin_s)
    return centres[clear]


def clips_from_annotations(
    recordings: list[str | os.PathLike],
    labels: pd.DataFrame,
    clip_s: float,
    positive_step_s: float = 0.5,
    negative_step_s: float = 1.0,
    margin_s: float = 0.5,
    call_class: str = KAGGLE_CLASSES[1],
    other_class: str = KAGGLE_CLASSES[0],
    allow_missing: bool = False,
) -> pd.DataFrame:
    """Clip table (see data_pipeline.training_data.clips) cut from labelled long recordings, deterministically.

    A clip is labelled by its centre, as the compact network scores it: a call clip has its centre
    at least `margin_s` inside a sure call (one every `positive_step_s` along the call); an other
    clip has its centre at least `margin_s` away from every labelled call, sure or faint (one every
    `negative_step_s`, and one in the middle of every gap between two calls, so the network learns
    to keep close calls apart). Centres near call edges (labels are good to about 0.5 s) and faint calls are
    left out. Only recordings named in `labels` are used; the group is the recording.

    A labelled name that matches no recording (a typo) would turn its calls into "no call" material
    or drop them: it stops training with one line per name, unless `allow_missing` (then printed).
    """
    from data_pipeline.audio.decoding import audio_duration_s, require_unique_names

    require_unique_names([Path(r) for r in recordings])  # labels name recordings by file name
    labels, problems = match_recordings(labels, recordings)
    if problems and not allow_missing:
        raise ValueError("; ".join(problems) + " (fix the labels, or pass --allow-missing-recordings to train without them)")
    for line in problems:
        print(f"warning: {line}; its calls are left out")
    unlabelled = sorted({Path(p).name for p in recordings} - set(labels["recording"]))
    if unlabelled:
        print(f"warning: {len(unlabelled)} recording(s) given have no labels and are not used: {', '.join(unlabelled[:5])}"
              + (" ..." if len(unlabelled) > 5 else ""))
    by_name = {Path(p).name: Path(p) for p in recordings}
    durations = {name: audio_duration_s(by_name[name]) for name in labels["recording"].unique()}
    problems = calls_past_the_end(labels, durations)
    if problems:
        raise ValueError("; ".join(problems) + " (fix the labels)")
    rows = []
    for name, calls in labels.groupby("recording", sort=True):
        path = by_name[name]
        duration = durations[name]
        intervals = calls[calls["confidence"].isin(["sure", "faint"])][["start", "end"]].to_numpy(float)
        sure = calls[calls["confidence"] == "sure"][["start", "end"]].to_numpy(float)
        first, last = clip_s / 2, duration - clip_s / 2
        if last < first:
            continue
        for start, end in sure:
            for centre in call_centres(start, end, first, last, margin_s, positive_step_s):
                rows.append((str(path), round(centre - clip_s / 2, 4), call_class, path.stem))
        # Other clips on a grid, plus the middle of every gap between consecutive calls: the grid
        # alone can step over a 1-2 s gap, and those gaps are what keeps close calls apart.
        ordered = intervals[np.argsort(intervals[:, 0])] if len(intervals) else intervals
        gap_middles = [(e + s) / 2 for (_, e), (s, _) in zip(ordered[:-1], ordered[1:])]
        centres = np.union1d(np.arange(first, last + 1e-9, negative_step_s).round(4), np.round(gap_middles, 4))
        for centre in clear_of(centres[(centres >= first) & (centres <= last)], intervals, margin_s):
            rows.append((str(path), round(centre - clip_s / 2, 4), other_class, path.stem))
    if not rows:
        raise ValueError("no labelled recording was found among the recordings given "
                         f"(labels name e.g. {labels['recording'].iloc[0]!r}); check --recordings and --labels")
    return pd.DataFrame(rows, columns=["file", "start", "label", "group"])
