"""Turn a recording's window scores into calls: (start, end, score) rows.

Each window's score is attributed to the hop-long stretch at its centre (the compact network
scores the middle of its window). The stretches above the threshold form runs; runs closer than
`min_gap_s` are one call (a dip in a long call does not split it), and runs shorter than
`min_call_s` are dropped (a lone noisy window is not a call), and so are those longer than `max_call_s`
(a frog chorus or an engine that holds the network's attention for 10 s is not one call), and those that pulse
more than `max_pulse_spread_db` (a trill, not a call; data_pipeline.features.pulsing), and those with no window
as harmonic as `min_harmonicity` (a crash, a knock, a heartbeat: no harmonic stack; data_pipeline.features.harmonicity),
and those whose stack's pitch glides faster than `max_pitch_glide_oct_s` (a moo, a roar, a siren: the pitch moves
where a Capuchinbird holds it; the same module). Last, two calls that
together last no longer than `join_within_s` are one call whose scores dipped in the middle. `min_gap_s` must
stay below the shortest quiet between two calls (about 1 s for Capuchinbirds), or neighbours fuse.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

EVENT_COLUMNS = ["start", "end", "score"]
PULSE_MARGIN_DB = 1.5  # how far above the most pulsing labelled call the pulse gate stays (for_labelled_calls)
JOIN_MARGIN_S = 0.5  # how far above the longest labelled call two calls are still joined (for_labelled_calls)
HARMONIC_MARGIN = 0.05  # how far below the least harmonic labelled call the harmonic gate stays (for_labelled_calls)
GLIDE_MARGIN_OCT_S = 0.1  # how far above the most gliding labelled call the pitch-glide gate stays (for_labelled_calls)


@dataclass(frozen=True)
class CountingConfig:
    """Settings that turn window scores into calls; saved with the model, tuned on validation data.

    hop_s: step between windows, seconds (a multiple of the front end's frame step).
    threshold: window score at or above which the window's centre counts as calling.
    min_gap_s: runs separated by less than this are merged into one call.
    min_call_s: calls shorter than this are dropped. Capuchinbird calls last 3-6 s (the sure ones of
        ../shared/forest 4 s or more, one faint one 2.5 s); on the held-out forest recordings every
        false detection lasted 2.0 s or less and every true one 3.7 s or more. A model trained on a
        few recordings finds calls as shorter runs (2-2.5 s): 2.25 rather than 2.5 kept them at no
        cost in false calls on the robustness benchmark's no-call material, 2.0 added some
        (benchmarks/rescore_counting.py; docs/not-a-call.md, "From a few labelled recordings").
    smooth_windows: median filter length over window scores (1 = none; odd).
    max_call_s: calls longer than this are dropped; 0: no limit. The labelled calls of ../shared/forest last
        2.5-7.0 s and every call the models found there 4.2-6.7 s, while most false calls on the robustness
        benchmark's no-call material were single stretches of 7.75-14 s (a frog chorus, the insect stream):
        8 s took them from 62 to 34 on the saved scores of six benchmark runs (each fold's own settings) and
        changed no count on the damaged forest recordings (docs/not-a-call.md, "Calls that last too long"). Training
        from labelled recordings raises it to 1 s above the longest labelled call (`for_labelled_calls`), so a
        species with longer calls is never cut by the Capuchinbird's figure.
    max_pulse_spread_db: calls whose windows pulse more than this (the median over the call's windows of the
        pulse spread around each window's centre, data_pipeline.features.pulsing) are dropped; 0: no gate. Every
        call found in the saved benchmark runs measured 2.7-4.7 dB (3,857 calls: the damaged forest recordings and
        the learning curve's few-label models), the frog choruses and insect stream they called 7.0-47.5
        (docs/not-a-call.md, "Calls that pulse"). Training from labelled recordings raises it to PULSE_MARGIN_DB above the
        most pulsing labelled call, so a species whose calls pulse is never cut by the Capuchinbird's figure.
        Front ends that cannot measure pulsing (mel bands) and scores saved before the gate let every call pass.
    min_harmonicity: calls none of whose windows (at or above the threshold) has a centre second this much of a
        harmonic stack are dropped (data_pipeline.features.harmonicity: 0 to 1, noise about 0.2); 0: no gate. The
        65 sure calls of ../shared/forest measured 0.65-0.82, 0.39 and up in the robustness benchmark's noisier
        condition, while no second of its glass-break streams reached 0.28, of the heart recordings 0.16, of its
        generated impacts 0.31 (docs/not-a-call.md, "Calls that hold a harmonic stack").
        Training from labelled recordings lowers it to HARMONIC_MARGIN below the least harmonic sure labelled call,
        so a species whose calls hold no stack is never cut by the Capuchinbird's figure. Scores saved before the
        gate let every call pass.
    max_pitch_glide_oct_s: calls whose windows' stacks glide faster than this (octaves a second, the median over the
        call's windows at or above the threshold of the glide around each window's centre,
        data_pipeline.features.harmonicity) are dropped; 0: no gate. Windows with too little stack to read are left
        out, and a call with none passes. Every call found in two robustness draws (909 calls: ten models, the
        forest recordings in every condition, sounds laid over calls included) measured at most 0.12, in 30
        few-label models' counts (389 calls) at most 0.06, while the moos two models called in the generated moo
        stream measured 0.41 and 0.66 (docs/not-a-call.md, "Calls that hold their pitch"). Training from labelled recordings
        raises it to GLIDE_MARGIN_OCT_S above the most gliding sure labelled call, so a species whose calls sweep
        is never cut by the Capuchinbird's figure. Scores saved before the gate let every call pass.
    join_within_s: two calls (each kept by the rules above) that together, from the first's start to the second's
        end, last no longer than this are counted as one; 0: never. A model may score the middle of a long call
        lower and find it as two calls closer than the longest call lasts: a fold of the robustness benchmark
        counted two of recording_11's 6-6.5 s calls twice each (3.25 + 2.25 s, 0.75 and 1.25 s apart), in every
        condition. The default is the longest call labelled in ../shared/forest (7 s; two of its calls are never
        closer than 2.5 s, so two whole calls together last 7.5 s or more). Joining only ever lowers a count;
        on the saved scores of eight benchmark runs and the learning curves it lowered no count below the truth
        (docs/not-a-call.md, "Calls split in two"). Training from labelled recordings sets it to JOIN_MARGIN_S above the
        longest labelled call, lower as well as higher: a species of short calls in quick series keeps them apart.
    """

    hop_s: float = 0.25
    threshold: float = 0.5
    min_gap_s: float = 0.75
    min_call_s: float = 2.25
    smooth_windows: int = 1
    max_call_s: float = 8.0
    max_pulse_spread_db: float = 6.0
    join_within_s: float = 7.0
    min_harmonicity: float = 0.3
    max_pitch_glide_oct_s: float = 0.25

    def __post_init__(self):
        """One line for a setting no count can use, before a recording is scored (hop_s is checked against
        the front end's frame step where windows are cut)."""
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold is a window's call probability, 0 to 1; got {self.threshold}")
        for name in ("min_gap_s", "min_call_s", "max_call_s", "join_within_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 seconds or more, got {getattr(self, name)}")
        if self.max_pulse_spread_db < 0:
            raise ValueError(f"max_pulse_spread_db must be 0 dB (no gate) or more, got {self.max_pulse_spread_db}")
        if self.max_pitch_glide_oct_s < 0:
            raise ValueError(f"max_pitch_glide_oct_s must be 0 (no gate) or more octaves a second, got "
                             f"{self.max_pitch_glide_oct_s}")
        if not 0.0 <= self.min_harmonicity < 1.0:
            raise ValueError(f"min_harmonicity is 0 (no gate) up to below 1, got {self.min_harmonicity}")
        if 0 < self.max_call_s < self.min_call_s:
            raise ValueError(f"max_call_s ({self.max_call_s}) is below min_call_s ({self.min_call_s}): no call could "
                             "be counted; 0 means no limit")
        if self.smooth_windows < 1 or self.smooth_windows % 2 == 0:
            raise ValueError(f"smooth_windows must be odd (1: no smoothing), got {self.smooth_windows}")

    def to_dict(self) -> dict:
        return asdict(self)

    def overridden(self, **settings) -> "CountingConfig":
        """A copy with the given settings changed; None means 'keep the saved value'."""
        from dataclasses import replace

        return replace(self, **{k: v for k, v in settings.items() if v is not None})

    def for_labelled_calls(self, longest_call_s: float | None, most_pulsing_db: float | None = None,
                           least_harmonic: float | None = None, most_gliding: float | None = None) -> "CountingConfig":
        """A copy whose max_call_s leaves room for the longest labelled call (1 s above it), whose
        max_pulse_spread_db for the most pulsing one (PULSE_MARGIN_DB above it), whose min_harmonicity for the least
        harmonic one (HARMONIC_MARGIN below it), whose max_pitch_glide_oct_s for the most gliding one
        (GLIDE_MARGIN_OCT_S above it), and whose join_within_s is JOIN_MARGIN_S above the longest labelled call. The
        first four only ever let more calls pass; a setting stays where no such figure is known, and 0 (none)
        stays 0."""
        def known(x):
            return x is not None and np.isfinite(x)

        changed = {}
        if self.max_call_s and known(longest_call_s):
            changed["max_call_s"] = max(self.max_call_s, float(longest_call_s) + 1.0)
        if self.max_pulse_spread_db and known(most_pulsing_db):
            changed["max_pulse_spread_db"] = max(self.max_pulse_spread_db, round(float(most_pulsing_db) + PULSE_MARGIN_DB, 2))
        if self.min_harmonicity and known(least_harmonic):
            changed["min_harmonicity"] = max(0.0, min(self.min_harmonicity, round(float(least_harmonic) - HARMONIC_MARGIN, 3)))
        if self.max_pitch_glide_oct_s and known(most_gliding):
            changed["max_pitch_glide_oct_s"] = max(self.max_pitch_glide_oct_s,
                                                   round(float(most_gliding) + GLIDE_MARGIN_OCT_S, 3))
        if self.join_within_s and known(longest_call_s):
            changed["join_within_s"] = round(float(longest_call_s) + JOIN_MARGIN_S, 2)
        return self.overridden(**changed)

    @classmethod
    def from_dict(cls, d: dict) -> "CountingConfig":
        """Settings saved before max_call_s, max_pulse_spread_db, join_within_s, min_harmonicity or
        max_pitch_glide_oct_s existed get its default, as every run with those settings counts now."""
        return cls(**d)


def median_smooth(scores: np.ndarray, width: int) -> np.ndarray:
    """Running median over `width` (odd) windows, edges padded by repetition."""
    if width <= 1 or len(scores) == 0:
        return scores
    if width % 2 == 0:
        raise ValueError(f"smooth_windows must be odd, got {width}")
    half = width // 2
    padded = np.pad(scores, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)


def merge_windows(
    starts_s: np.ndarray,
    scores: np.ndarray,
    window_s: float,
    config: CountingConfig,
    duration_s: float | None = None,
    pulse_spreads: np.ndarray | None = None,
    harmonicities: np.ndarray | None = None,
    pitch_glides: np.ndarray | None = None,
) -> pd.DataFrame:
    """Calls found in one recording, as a table with columns start, end (seconds) and score (max window score).

    pulse_spreads: each window's pulse spread (NaN: not measured), for the pulse gate; None: no gate.
    harmonicities: each window's harmonicity (NaN: not measured), for the harmonic gate; None: no gate.
    pitch_glides: each window's pitch glide (NaN: not measured), for the pitch-glide gate; None: no gate.
    """
    spans = call_spans(starts_s, scores, window_s, config, duration_s, pulse_spreads, harmonicities, pitch_glides)
    return pd.DataFrame(spans, columns=EVENT_COLUMNS)


def call_spans(
    starts_s: np.ndarray,
    scores: np.ndarray,
    window_s: float,
    config: CountingConfig,
    duration_s: float | None = None,
    pulse_spreads: np.ndarray | None = None,
    harmonicities: np.ndarray | None = None,
    pitch_glides: np.ndarray | None = None,
) -> np.ndarray:
    """`merge_windows` as a (calls, 3) array of start, end, score: what tuning the counting settings
    calls some ten thousand times (model.learning.counting_tuning), where a table per call cost most of the time."""
    starts_s = np.asarray(starts_s, float)
    scores = median_smooth(np.asarray(scores, float), config.smooth_windows)
    if len(starts_s) == 0:
        return np.empty((0, 3))
    centres = starts_s + window_s / 2
    seg_start = centres - config.hop_s / 2
    seg_end = centres + config.hop_s / 2
    positive = scores >= config.threshold
    # Runs of consecutive positive windows: the groupby idea, on index boundaries.
    edges = np.diff(np.concatenate([[0], positive.astype(int), [0]]))
    run_first, run_last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    calls: list[list[float]] = []  # start, end, score, first window, last window
    for a, b in zip(run_first, run_last):
        start, end, score = seg_start[a], seg_end[b], scores[a : b + 1].max()
        if calls and start - calls[-1][1] < config.min_gap_s:
            calls[-1][1] = end
            calls[-1][2] = max(calls[-1][2], score)
            calls[-1][4] = b
        else:
            calls.append([start, end, score, a, b])
    spans = np.array(calls, float).reshape(-1, 5)
    spans[:, 0] = np.maximum(spans[:, 0], 0.0)
    if duration_s is not None:
        spans[:, 1] = np.minimum(spans[:, 1], duration_s)
    lengths = spans[:, 1] - spans[:, 0]
    keep = (lengths >= config.min_call_s) & ((lengths <= config.max_call_s) | (config.max_call_s == 0))
    if config.max_pulse_spread_db and pulse_spreads is not None:
        keep &= np.array([not call_pulses(pulse_spreads, positive, int(a), int(b), config.max_pulse_spread_db)
                          for a, b in spans[:, 3:]], bool).reshape(-1)
    if config.min_harmonicity and harmonicities is not None:
        keep &= np.array([not call_lacks_harmonics(harmonicities, positive, int(a), int(b), config.min_harmonicity)
                          for a, b in spans[:, 3:]], bool).reshape(-1)
    if config.max_pitch_glide_oct_s and pitch_glides is not None:
        keep &= np.array([not call_glides(pitch_glides, positive, int(a), int(b), config.max_pitch_glide_oct_s)
                          for a, b in spans[:, 3:]], bool).reshape(-1)
    return join_close_calls(spans[keep, :3], config.join_within_s)


def join_close_calls(spans: np.ndarray, within_s: float) -> np.ndarray:
    """(calls, 3) start, end, score with each call joined to the one before where the two together last no longer
    than `within_s` (0: none joined); a joined call keeps the higher score."""
    if not within_s or len(spans) < 2:
        return spans
    joined = [spans[0].copy()]
    for call in spans[1:]:
        if call[1] - joined[-1][0] <= within_s:
            joined[-1][1] = max(joined[-1][1], call[1])
            joined[-1][2] = max(joined[-1][2], call[2])
        else:
            joined.append(call.copy())
    return np.array(joined, float).reshape(-1, 3)


def call_pulses(pulse_spreads: np.ndarray, positive: np.ndarray, first: int, last: int, limit_db: float) -> bool:
    """Whether the call over windows first..last pulses more than `limit_db`: the median spread of its windows at
    or above the threshold; a call none of whose windows was measured passes."""
    measured = np.asarray(pulse_spreads[first: last + 1], float)[positive[first: last + 1]]
    measured = measured[np.isfinite(measured)]
    return bool(len(measured)) and float(np.median(measured)) > limit_db


def call_lacks_harmonics(harmonicities: np.ndarray, positive: np.ndarray, first: int, last: int, floor: float) -> bool:
    """Whether no window of the call over windows first..last (at or above the threshold) is `floor` harmonic or
    more: the highest, not the median, as a call's onset and fading tail hold no stack; a call none of whose
    windows was measured passes."""
    measured = np.asarray(harmonicities[first: last + 1], float)[positive[first: last + 1]]
    measured = measured[np.isfinite(measured)]
    return bool(len(measured)) and float(measured.max()) < floor


def call_glides(pitch_glides: np.ndarray, positive: np.ndarray, first: int, last: int, limit: float) -> bool:
    """Whether the stack of the call over windows first..last glides faster than `limit` (octaves a second): the
    median over its windows at or above the threshold whose glide was measured; a call with none passes."""
    measured = np.asarray(pitch_glides[first: last + 1], float)[positive[first: last + 1]]
    measured = measured[np.isfinite(measured)]
    return bool(len(measured)) and float(np.median(measured)) > limit
