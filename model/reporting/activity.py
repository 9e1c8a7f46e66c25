"""Calls per hour of day, over the recordings whose file names say when they began (data_pipeline.audio.recording_times).

A season is counted to learn when a species calls. Recorders run on schedules (more at dawn and dusk than at noon), so
calls are divided by the hours recorded at each hour of the day: a raw count per hour would show the schedule.

    OUTPUT_hours.csv   hour,hours_recorded,calls,calls_per_hour: one row per hour of the day (0-23, the clock the
                       file names give), calls_per_hour empty where nothing was recorded at that hour
    OUTPUT_hours.png   calls per hour recorded (bars) and hours recorded (line), by hour of day
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from data_pipeline.audio.recording_times import recording_start
from model.outputs import atomic_save_figure
from model.reporting.plots import new_figure

ACTIVITY_COLUMNS = ["hour", "hours_recorded", "calls", "calls_per_hour"]


def _seconds_per_hour(start: datetime, duration_s: float) -> np.ndarray:
    """Seconds of a recording begun at `start` in each hour of the day (24 bins, over as many days as it runs)."""
    out = np.zeros(24)
    at, left = start, float(duration_s)
    while left > 0:
        step = min(left, 3600 - (at.minute * 60 + at.second + at.microsecond / 1e6))
        out[at.hour] += step
        at, left = at + timedelta(seconds=step), left - step
    return out


def hourly_activity(durations: dict[str, float], events: pd.DataFrame) -> tuple[pd.DataFrame, int] | None:
    """(the table of the module doc, how many recordings it covers) from each counted recording's duration (name ->
    seconds) and the calls (recording, start, ...); None where no recording's name says when it began."""
    starts = {name: recording_start(name) for name in durations}
    timed = {name: start.replace(tzinfo=None) for name, start in starts.items() if start is not None}
    if not timed:
        return None
    recorded = sum(_seconds_per_hour(start, durations[name]) for name, start in timed.items())
    calls = np.zeros(24, int)
    for row in events[events["recording"].isin(list(timed))].itertuples():
        calls[(timed[row.recording] + timedelta(seconds=float(row.start))).hour] += 1
    hours = recorded / 3600
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(hours > 0, calls / hours, np.nan)
    table = pd.DataFrame({"hour": np.arange(24), "hours_recorded": hours.round(3), "calls": calls,
                          "calls_per_hour": rate.round(3)}, columns=ACTIVITY_COLUMNS)
    return table, len(timed)


def plot_activity(table: pd.DataFrame, recordings: int, path: str | os.PathLike) -> None:
    fig, ax = new_figure(figsize=(8, 3.5))
    ax.bar(table["hour"], table["calls_per_hour"].fillna(0), color="tab:green", label="calls per hour recorded")
    ax.set_xticks(range(24))
    ax.set_xlabel("hour of day (as the file names give it)")
    ax.set_ylabel("calls per hour recorded")
    effort = ax.twinx()
    effort.plot(table["hour"], table["hours_recorded"], "k.-", label="hours recorded")
    effort.set_ylabel("hours recorded")
    effort.set_ylim(bottom=0)
    ax.set_title(f"calls by hour of day: {recordings} recordings, {table['hours_recorded'].sum():.1f} h")
    fig.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8, frameon=False)  # below the hours
    atomic_save_figure(path, fig)
