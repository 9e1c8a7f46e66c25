"""What counting draws stays readable at a field season's scale: thousands of recordings in one counts chart,
and a recording of hours in a mistake plot."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from model.reporting.evaluation import mistake_times
from model.reporting.plots import MAX_NAMED_BARS, counts_figure


def _counts(n):
    return pd.DataFrame({"recording": [f"20240101_{i:06d}.WAV" for i in range(n)],
                         "call_count": np.random.default_rng(0).integers(0, 9, n)})


def test_a_few_recordings_get_a_named_bar_each():
    counts = _counts(12)
    fig = counts_figure(counts)
    ax = fig.axes[0]
    assert [bar.get_height() for bar in ax.patches] == list(counts["call_count"])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(counts["recording"])


def test_a_season_of_recordings_is_one_chart_of_fixed_size_with_every_count_in_it():
    # 13,000 recordings (a minute every ten, for three months): a bar each made an image 3,250 inches wide.
    counts = _counts(13000)
    fig = counts_figure(counts, truth=pd.Series(counts["call_count"].to_numpy(), index=counts["recording"]))
    ax, spread = fig.axes
    assert tuple(fig.get_size_inches()) == (14, 4)
    assert list(ax.patches[0].get_data().values) == list(counts["call_count"])  # the filled line: every count, in order
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert len(names) == 12 and names[0] == "20240101_000000.WAV" and names[-1] == "20240101_012999.WAV"
    held = [p.get_height() for p in spread.patches]
    assert held == list(np.bincount(counts["call_count"]))  # recordings holding 0, 1, ... calls
    assert len(counts_figure(_counts(MAX_NAMED_BARS)).axes) == 1


def test_mistakes_are_the_false_calls_and_the_missed_sure_calls_in_order():
    truth = pd.DataFrame([(10, 15, "sure"), (30, 35, "faint"), (60, 65, "sure"), (90, 95, "sure")],
                         columns=["start", "end", "confidence"])
    found = pd.DataFrame([(11, 14, 0.9), (45, 47, 0.8), (91, 96, 0.7), (120, 124, 0.6)], columns=["start", "end", "score"])
    assert list(mistake_times(found, truth)) == [45, 60, 120]  # the faint call missed is no mistake


@pytest.mark.parametrize("seconds, first_call_s, shown", [
    (700.0, 640.0, (100.0, 700.0)),  # a minute before the miss would run past the end: the last ten minutes
    (900.0, 250.0, (190.0, 790.0)),  # from a minute before the miss
    (120.0, 100.0, (0.0, 120.0)),  # short: all of it
])
def test_a_long_recording_s_mistake_plot_shows_ten_minutes_from_a_minute_before_its_first_mistake(
        tmp_path, monkeypatch, untrained_model, seconds, first_call_s, shown):
    import model.reporting.count_report as count_report
    from model.detection.detector import Detector

    rate = 8000
    sf.write(tmp_path / "long.wav", np.zeros(int(seconds * rate), np.int16), rate, subtype="PCM_16")  # silence: no call
    (tmp_path / "labels.csv").write_text(f"recording,start,end\nlong.wav,{first_call_s},{first_call_s + 5}\n"
                                         f"long.wav,{seconds - 10},{seconds - 5}\n")
    drawn = []
    plot = count_report.plot_recording
    monkeypatch.setattr(count_report, "plot_recording", lambda spec, frontend, path, *args, start_s, **kwargs: (
        drawn.append((start_s, start_s + spec.shape[0] * frontend.frame_step_s)),
        plot(spec, frontend, path, *args, start_s=start_s, **kwargs)))
    count_report.count_and_report(Detector.load(untrained_model), [tmp_path / "long.wav"], tmp_path / "counts.csv",
                                  labels_path=tmp_path / "labels.csv", export=())
    assert drawn == [pytest.approx(shown, abs=0.05)]
    assert (tmp_path / "counts_plots" / "long.png").stat().st_size > 10_000
    # Counted again with the call no longer labelled, there is no mistake to plot, and the old plot goes.
    (tmp_path / "labels.csv").write_text("recording,start,end\nlong.wav,,\n")
    count_report.count_and_report(Detector.load(untrained_model), [tmp_path / "long.wav"], tmp_path / "counts.csv",
                                  labels_path=tmp_path / "labels.csv", export=())
    assert len(drawn) == 1 and list((tmp_path / "counts_plots").iterdir()) == []
