"""The time of day of each call, from the date and time recorders put in file names
(data_pipeline.audio.recording_times); a name without a whole, valid one gives none."""

from datetime import datetime, timedelta, timezone

import pytest

from data_pipeline.audio.recording_times import clock_times, recording_start


@pytest.mark.parametrize("name,began", [
    ("20240315_053000.WAV", datetime(2024, 3, 15, 5, 30)),  # AudioMoth
    ("S4A01234_20240315_053000.wav", datetime(2024, 3, 15, 5, 30)),  # Song Meter SM4
    ("SMM01234_20240315_053000Z.wav", datetime(2024, 3, 15, 5, 30, tzinfo=timezone.utc)),
    ("20220421T120000+1000_site-B_644366.flac", datetime(2022, 4, 21, 12, tzinfo=timezone(timedelta(hours=10)))),
    ("2024-03-15_05-30-00.wav", datetime(2024, 3, 15, 5, 30)),
    ("20240315_053000-03:00.wav", datetime(2024, 3, 15, 5, 30, tzinfo=timezone(timedelta(hours=-3)))),
    ("20240315_053000-0001.wav", datetime(2024, 3, 15, 5, 30)),  # a take number, not a UTC offset
    ("recording_04.mp3", None),  # the challenge's names
    ("XC114131-3.wav", None),
    ("20241399_053000.wav", None),  # no such day
    ("site_20240315_0530.wav", None),  # no seconds: not whole
    ("120240315_053000.wav", None),  # inside a longer number
])
def test_the_start_is_read_from_the_names_recorders_write(name, began):
    assert recording_start(name) == began


def test_each_moment_gets_its_time_of_day_to_the_millisecond_and_none_where_the_name_has_none():
    assert clock_times(["20240315_235959.wav", "recording_04.mp3", "20220421T120000+1000_a.flac"], [1.25, 3.0, 7200.5]) \
        == ["2024-03-16 00:00:00.250", "", "2022-04-21 14:00:00.500+10:00"]


def test_calls_per_hour_of_day_are_divided_by_the_hours_recorded_at_that_hour():
    import numpy as np
    import pandas as pd

    from model.reporting.activity import hourly_activity

    durations = {"20240315_235930.wav": 180.0,  # 30 s before midnight, 150 s after
                 "20240316_050000.wav": 7200.0, "20240317_050000.wav": 3600.0,  # two dawns: 2 h at 5, 1 h at 6
                 "recording_04.mp3": 600.0}  # no time in its name: left out
    events = pd.DataFrame([("20240315_235930.wav", 10.0), ("20240315_235930.wav", 100.0), ("20240316_050000.wav", 60.0),
                           ("20240316_050000.wav", 3700.0), ("20240317_050000.wav", 1800.0), ("recording_04.mp3", 5.0)],
                          columns=["recording", "start"])
    table, timed = hourly_activity(durations, events)
    assert timed == 3 and table["hour"].tolist() == list(range(24))
    by_hour = table.set_index("hour")
    assert by_hour.loc[[23, 0, 5, 6], "hours_recorded"].tolist() == [round(30 / 3600, 3), round(150 / 3600, 3), 2.0, 1.0]
    assert by_hour.loc[[23, 0, 5, 6], "calls"].tolist() == [1, 1, 2, 1] and table["calls"].sum() == 5
    assert by_hour.loc[5, "calls_per_hour"] == 1.0 and by_hour.loc[6, "calls_per_hour"] == 1.0
    assert np.isnan(by_hour.loc[12, "calls_per_hour"])  # nothing recorded at noon: no rate, not 0
    assert hourly_activity({"recording_04.mp3": 600.0}, events) is None


def test_a_count_of_recordings_without_times_leaves_no_hourly_files_of_an_earlier_count(tmp_path, capsys):
    from types import SimpleNamespace

    import pandas as pd

    from model.reporting.count_report import _report_activity

    output = tmp_path / "counts.csv"
    events = pd.DataFrame([("20240316_050000.wav", 60.0)], columns=["recording", "start"])
    timed = SimpleNamespace(scores=[SimpleNamespace(recording="20240316_050000.wav", duration_s=600.0)], events=events)
    _report_activity(timed, output)
    assert pd.read_csv(tmp_path / "counts_hours.csv")["calls"].sum() == 1 and (tmp_path / "counts_hours.png").exists()
    untimed = SimpleNamespace(scores=[SimpleNamespace(recording="recording_04.mp3", duration_s=600.0)], events=events[:0])
    _report_activity(untimed, output)  # a later count into the same --output, of recordings with no time in their names
    assert not (tmp_path / "counts_hours.csv").exists() and not (tmp_path / "counts_hours.png").exists()
