"""Everything count_calls.py writes, in one place: submission, events, chart, exports, evaluation.

    OUTPUT.csv                      submission: one row per recording, sorted (challenge format)
    OUTPUT_events.csv               recording,start,end,score,clock_start: one row per call; clock_start, its
                                    time of day where the file name says when the recording began
                                    (data_pipeline.audio.recording_times)
    OUTPUT_counts.png               bar chart of calls per recording (labelled counts as dots)
    OUTPUT_hours.csv, OUTPUT_hours.png
                                    calls per hour of day, where file names say when recordings began
                                    (model.reporting.activity)
    OUTPUT_detections/              per recording: Raven selection table, Audacity label track
    OUTPUT_parts/                   per recording: its window scores, written as soon as it is scored;
                                    a rerun resumes from them (model.detection.score_parts)
    OUTPUT_evaluation.csv           with --labels: per-recording count error, tp/fp/fn
    OUTPUT_plots/                   with --labels: spectrograms of recordings with mistakes
    TENSORBOARD_DIR/                with --tensorboard: the counts as a table and a chart
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from data_pipeline.audio.recording_times import clock_times
from data_pipeline.labels.annotations import AUDACITY_SUFFIX, calls_past_the_end, match_recordings, read_call_labels
from model.detection.detector import Detector
from model.detection.score_parts import Scorer, count_resumably, score_here
from model.outputs import atomic_write_csv, write_audacity_labels, write_raven_table
from model.reporting.activity import hourly_activity, plot_activity
from model.reporting.evaluation import evaluate, format_summary, mistake_times
from model.reporting.kaggle_submission import submission_table
from model.reporting.plots import counts_figure, plot_counts, plot_recording

MAX_RECORDING_PLOTS = 6
MAX_PLOT_S = 600.0  # the longest stretch of a recording one plot shows: 100 inches wide at 6 s an inch


class NothingReadError(ValueError):
    """No input recording could be read: one line, and no output written or replaced."""


def sibling(output: Path, suffix: str) -> Path:
    """submission.csv + '_events.csv' -> submission_events.csv"""
    return output.with_name(output.stem + suffix)


def count_and_report(detector: Detector, paths: list, output: str | os.PathLike, events_path=None,
                     fmt: str = "clip_name,call_count", labels_path=None, export=("raven", "audacity"),
                     tensorboard_dir=None, plot_all: bool = False, fresh: bool = False,
                     scorer: Scorer = score_here) -> tuple[list[str], int]:
    """Count calls in `paths`, write every output (see module doc); (the decode failures, how many
    recordings were resumed from OUTPUT_parts/).

    When no recording could be read, nothing is written (an earlier submission stays as it was).
    fresh: rescore every recording, ignoring the parts of an earlier run.
    scorer: where recordings are scored (this process; model.detection.cluster_counting.DaskScorer on Dask).
    """
    output = Path(output)
    labels = read_call_labels(labels_path) if labels_path else None
    result, resumed = count_resumably(detector, paths, sibling(output, "_parts"), fresh=fresh, scorer=scorer)
    if len(result.counts) == 0:
        raise NothingReadError(f"none of the {len(paths)} recordings could be read, so nothing was written "
                               f"({output} left as it was): " + "; ".join(result.failures[:3])
                               + (" ..." if len(result.failures) > 3 else ""))
    atomic_write_csv(output, submission_table(result.counts, fmt))
    events_path = Path(events_path) if events_path else sibling(output, "_events.csv")
    events = result.events.round({"start": 2, "end": 2, "score": 4})
    atomic_write_csv(events_path, events.assign(clock_start=clock_times(events["recording"], events["start"])))
    print(f"wrote {output} ({len(result.counts)} recordings, {len(result.events)} calls) and {events_path}")

    truth = None
    if labels is not None:
        counted = list(result.counts["recording"])
        labels, problems = match_recordings(labels, counted)
        problems += calls_past_the_end(labels, {r.recording: r.duration_s for r in result.scores})
        for line in problems:
            print(f"warning: {line}")
        unlabelled = sorted(set(counted) - set(labels["recording"]))
        if unlabelled:
            print(f"warning: {len(unlabelled)} counted recording(s) have no labels and are not scored: "
                  + ", ".join(unlabelled[:5]) + (" ..." if len(unlabelled) > 5 else ""))
        scored = sorted(set(counted) - set(unlabelled))
        if not scored:
            raise ValueError(f"{labels_path}: names none of the counted recordings; nothing was scored")
        per_rec, summary = evaluate(result.events, labels, scored)
        atomic_write_csv(sibling(output, "_evaluation.csv"), per_rec)
        truth = per_rec.set_index("recording")["sure"]
        print(per_rec.to_string(index=False))
        print(format_summary(summary))
        _plot_recordings(detector, paths, result, labels, per_rec, sibling(output, "_plots"), plot_all)
    plot_counts(result.counts, sibling(output, "_counts.png"), truth)
    _report_activity(result, output)
    if tensorboard_dir:
        from model.reporting.tensorboard_logging import log_counts

        log_counts(tensorboard_dir, result.counts, counts_figure(result.counts, truth))

    folder = sibling(output, "_detections")
    lo_hz, hi_hz = detector.frontend.band_hz
    for rec in result.counts["recording"]:
        ev = result.events[result.events["recording"] == rec]
        stem = Path(rec).stem
        if "raven" in export:
            write_raven_table(folder / f"{stem}.Table.1.selections.txt", ev, lo_hz, hi_hz)
        if "audacity" in export:
            write_audacity_labels(folder / f"{stem}{AUDACITY_SUFFIX}", ev)
    return result.failures, resumed


def _report_activity(result, output: Path) -> None:
    """Calls per hour of day (model.reporting.activity) where some recording's name says when it began; else no
    such files, and none of an earlier count's left to be taken for this one's."""
    table_path, plot_path = sibling(output, "_hours.csv"), sibling(output, "_hours.png")
    activity = hourly_activity({s.recording: s.duration_s for s in result.scores}, result.events)
    if activity is None:
        table_path.unlink(missing_ok=True)
        plot_path.unlink(missing_ok=True)
        return
    table, timed = activity
    atomic_write_csv(table_path, table)
    plot_activity(table, timed, plot_path)
    untimed = len(result.scores) - timed
    print(f"wrote {table_path} and {plot_path}: calls per hour of day over the {timed} recording(s) whose file names "
          f"say when they began" + (f" ({untimed} whose names do not left out)" if untimed else ""))


def _plot_recordings(detector, paths, result, labels, per_rec, folder: Path, plot_all: bool) -> None:
    """Spectrogram, labels and detections of the recordings with the most mistakes (of every
    scored recording with `plot_all`); of a recording longer than MAX_PLOT_S, the stretch that
    long from a minute before its first mistake, read alone (a whole 2-hour recording was an image
    120,000 pixels wide, drawn from 460 MB of samples decoded at once). The folder then holds this run's
    plots only: an earlier run's plot of a mistake since mended would say it is still there."""
    from data_pipeline.audio.decoding import read_stretch
    from data_pipeline.features.frontend import spectrogram

    mistakes = per_rec.assign(errors=per_rec["fp"] + per_rec["fn"] + per_rec["count_error"].abs())
    if plot_all:
        worst = mistakes
    else:
        worst = mistakes[mistakes["errors"] > 0].sort_values("errors", ascending=False).head(MAX_RECORDING_PLOTS)
        if not len(worst):
            print("no mistakes: no plots (--plot-all plots every recording)")
    by_name = {Path(p).name: p for p in paths}
    scores = {s.recording: s for s in result.scores}
    plots = {rec: folder / f"{Path(rec).stem}.png" for rec in worst["recording"]}
    for stale in set(folder.glob("*.png")) - set(plots.values()):  # an earlier run's plot of a mistake since mended
        stale.unlink()
    for rec, plot in plots.items():
        events, truth = result.events[result.events["recording"] == rec], labels[labels["recording"] == rec]
        duration, start, title = scores[rec].duration_s, 0.0, rec
        if duration > MAX_PLOT_S:
            first = mistake_times(events, truth)
            start = float(np.clip(first[0] - 60 if len(first) else 0, 0, duration - MAX_PLOT_S))
            title = f"{rec}, {start:.0f}-{start + MAX_PLOT_S:.0f} s of {duration:.0f} s"
        audio = read_stretch(by_name[rec], start, start + MAX_PLOT_S, detector.frontend.sample_rate_hz)
        spec = np.asarray(spectrogram(audio, detector.frontend))
        plot_recording(spec, detector.frontend, plot, events, truth, scores[rec], title=title, start_s=start)
    if len(worst):
        print(f"plots of the {len(worst)} recordings {'scored' if plot_all else 'with mistakes'}: {folder}/")
