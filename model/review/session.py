"""One review of one count: its recordings, the count's outputs, the items and decisions, and the files
the decisions are exported to.

For `count_calls.py --output submission.csv` the review lives beside the count's outputs:

    submission_review.sqlite   every item offered and every decision (model.review.store)
    submission_review.csv      recording,start,end,score,kind,decision,decided_at: every item, the decision empty
                               where none was made yet; what `train.py --review` reads
    submission_verified.csv    per recording: detections, reviewed, confirmed, rejected, found missed, verified calls
    submission_precision.csv   precision at or above each score, with its 95% interval
    submission_precision.png   the same, with the reviewed items and the fitted score-to-correctness curve

The CSVs are rewritten (atomically) after every decision, the PNG when the summary is asked for.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from data_pipeline.audio.decoding import read_stretch
from model.detection.counting import RecordingScores
from model.detection.detector import Detector
from model.detection.score_parts import load_part, scoring_fingerprint
from model.outputs import atomic_save_figure, atomic_write_csv
from model.reporting.count_report import sibling
from model.review.queue import in_review_order, near_misses, random_stretches
from model.review.store import ReviewStore, review_table
from model.review.verification import precision_by_threshold, precision_figure, verified_counts

CONTEXT_S = 3.0  # audio shown and played either side of an item
PRECISION_THRESHOLDS = np.round(np.arange(0.05, 1.0, 0.05), 2)
# The server draws from its request threads, and matplotlib is not thread-safe: one drawing at a time. Its first
# import too: two threads importing pyplot at once made one fail ("partially initialized module").
DRAWING = threading.Lock()


class ReviewSession:
    """The review of the count written to `output` (its _events.csv and _parts/) over `recordings`."""

    def __init__(self, detector: Detector, recordings: list[Path], output: str | os.PathLike,
                 near_score: float | None = None, order: str = "score", seed: int = 0):
        self.detector, self.order, self.seed = detector, order, seed
        self.output = Path(output)
        self.recordings = {Path(p).name: Path(p) for p in recordings}
        events_path = sibling(self.output, "_events.csv")
        if not events_path.is_file():
            raise FileNotFoundError(f"{events_path}: no events table; count first: "
                                    f"python count_calls.py --input ... --output {self.output}")
        events = pd.read_csv(events_path)
        unknown = sorted(set(events["recording"].astype(str)) - set(self.recordings))
        if unknown:
            raise ValueError(f"{events_path} names {len(unknown)} recording(s) not among the recordings given "
                             f"(e.g. {unknown[0]!r}); pass the --input the count was made with")
        self.scores = self._stored_scores()
        self.threshold = detector.counting.threshold
        near = near_misses(self.scores, detector.frontend.clip_s, detector.counting, events,
                           near_score if near_score is not None else self.threshold / 2)
        self.store = ReviewStore(sibling(self.output, "_review.sqlite"))  # only once everything was read
        self.store.add_items(events, "detection")
        self.store.add_items(near, "near_miss")
        self.durations = {rec.recording: rec.duration_s for rec in self.scores}
        self.export()

    def _stored_scores(self) -> list[RecordingScores]:
        """The window scores the count stored (OUTPUT_parts/), for near misses and random stretches."""
        folder = sibling(self.output, "_parts")
        fingerprint = scoring_fingerprint(self.detector, self.detector.counting.hop_s)
        scores, missing = [], []
        for name, path in sorted(self.recordings.items()):
            part = load_part(folder, path, fingerprint)
            if part is None:
                missing.append(name)
            else:
                scores.append(part)
        if missing:
            raise ValueError(f"{folder}: no window scores of {len(missing)} recording(s) made with this model "
                             f"(e.g. {missing[0]!r}); count them with this --model and --output first")
        return scores

    def queue(self) -> pd.DataFrame:
        """Every item in review order, with its current decision and the stretch to show."""
        items = in_review_order(self.store.items(), self.order, self.threshold, self.seed)
        duration = items["recording"].map(self.durations)
        return items.assign(view_start=(items["start"] - CONTEXT_S).clip(lower=0).round(3),
                            view_end=np.minimum(items["end"] + CONTEXT_S, duration).round(3))

    def add_random(self, n: int) -> int:
        """Add `n` random stretches (a clip long) that overlap no item yet; how many were added."""
        items = self.store.items()
        seed = self.seed + 1 + int((items["kind"] == "random").sum())  # a new draw each time, repeatable
        picked = random_stretches(self.scores, self.detector.frontend.clip_s, n, self.detector.frontend.clip_s,
                                  items, seed)
        return self.store.add_items(picked, "random")

    def stretch(self, item_id: int) -> tuple[np.ndarray, float, float]:
        """(samples at the front end's rate, start s, end s) of an item with its context."""
        item = self.store.item(item_id)
        start = max(0.0, item["start"] - CONTEXT_S)
        end = min(self.durations[item["recording"]], item["end"] + CONTEXT_S)
        rate = self.detector.frontend.sample_rate_hz
        return read_stretch(self.recordings[item["recording"]], start, end, rate), start, end

    def spectrogram_png(self, item_id: int) -> bytes:
        """The item's stretch as the model's front end sees it (low frequencies at the bottom)."""
        from data_pipeline.features.frontend import pad_or_crop, spectrogram
        from model.reporting.spectrogram_export import spectrogram_image

        audio, _, _ = self.stretch(item_id)
        fe = self.detector.frontend
        spec = np.asarray(spectrogram(pad_or_crop(audio, max(len(audio), fe.frame_length)), fe))
        buffer = io.BytesIO()
        with DRAWING:
            import matplotlib.pyplot as plt

            plt.imsave(buffer, spectrogram_image(spec, "magma"), format="png")
        return buffer.getvalue()

    def wav(self, item_id: int) -> bytes:
        """The item's stretch as 16-bit WAV, for the page to play."""
        import soundfile as sf

        audio, _, _ = self.stretch(item_id)
        peak = float(np.abs(audio).max()) if len(audio) else 0.0
        buffer = io.BytesIO()
        sf.write(buffer, audio / peak * 0.9 if peak > 0 else audio, self.detector.frontend.sample_rate_hz,
                 format="WAV", subtype="PCM_16")  # normalised: a distant call is audible
        return buffer.getvalue()

    def summary(self) -> dict:
        """Verified counts and precision, as the page shows them."""
        items = self.store.items()
        precision = precision_by_threshold(items, PRECISION_THRESHOLDS)
        return {"verified": verified_counts(items).to_dict("records"),
                "precision": precision.astype(object).where(precision.notna(), None).to_dict("records"),
                "threshold": self.threshold, "reviewed": int(items["decision"].notna().sum()), "items": len(items),
                "order": self.order}

    def precision_png(self) -> bytes:
        """The precision plot as it stands (written to OUTPUT_precision.png by `export(figure=True)`)."""
        buffer = io.BytesIO()
        items = self.store.items()
        with DRAWING:
            import matplotlib.pyplot as plt

            fig = precision_figure(items, self.threshold)
            fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
            plt.close(fig)
        return buffer.getvalue()

    def export(self, figure: bool = False) -> None:
        """Rewrite the review's CSVs (and with `figure`, the precision plot)."""
        items = self.store.items()
        atomic_write_csv(sibling(self.output, "_review.csv"), review_table(items))
        atomic_write_csv(sibling(self.output, "_verified.csv"), verified_counts(items))
        atomic_write_csv(sibling(self.output, "_precision.csv"), precision_by_threshold(items, PRECISION_THRESHOLDS))
        if figure:
            with DRAWING:
                atomic_save_figure(sibling(self.output, "_precision.png"), precision_figure(items, self.threshold))
