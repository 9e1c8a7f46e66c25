"""A trained detector: the Keras model plus everything needed to use it, saved in one run folder.

    RUN_DIR/model.keras     the network
    RUN_DIR/detector.json   front end, classes, architecture, counting settings and pooling

Prediction and counting only ever build features from the saved front end, so a model is never
fed features it was not trained on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from data_pipeline.features.frontend import FrontendConfig
from model.detection.decisions import as_class_probabilities
from model.detection.events import CountingConfig
from model.detection.run_folder import DETECTOR_FILE, MODEL_FILE, run_folder, trained_run_folder
from model.interrupts import stop_if_interrupted


@dataclass
class Detector:
    model: object  # keras.Model
    frontend: FrontendConfig
    classes: list[str]
    arch: str = "compact"
    counting: CountingConfig = field(default_factory=CountingConfig)
    positive_class: int = 1  # index of the call class, whose probability is scored
    pooling: str = "max"  # windows of one file -> the file's probabilities (model.detection.decisions.pool_by_file)
    _trunks: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # hop in frames -> SharedTrunk | None

    def probabilities(self, spectrograms) -> np.ndarray:
        """[n, classes] class probabilities for spectrogram windows [n, frames, bins]."""
        stop_if_interrupted()  # a Ctrl-C that TensorFlow dropped during the last call (model.interrupts)
        if len(spectrograms) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        return as_class_probabilities(self.model.predict_on_batch(spectrograms))  # compiled: ~2x faster than model(x)

    def window_probabilities(self, batch) -> np.ndarray:
        """[windows, classes] for a `data_pipeline.features.windows.WindowBatch`: from one run of the network's
        convolutions over the batch's frames where the network shares them (`model.detection.shared_trunk`),
        else window by window; the same probabilities either way."""
        from model.detection.shared_trunk import SharedTrunk, shareable

        if batch.hop_frames not in self._trunks:
            self._trunks[batch.hop_frames] = (SharedTrunk(self.model, self.frontend, batch.hop_frames)
                                              if shareable(self.model, self.frontend, batch.hop_frames) else None)
        trunk = self._trunks[batch.hop_frames]
        if trunk is None:
            return self.probabilities(batch.spectrograms)
        stop_if_interrupted()
        return as_class_probabilities(trunk.probabilities(batch.span, len(batch.starts_s)))

    def score(self, spectrograms) -> np.ndarray:
        """Probability of the call class for each spectrogram window [n, frames, bins]."""
        return self.probabilities(spectrograms)[:, self.positive_class]

    @property
    def networks(self) -> list:
        """The Keras models whose outputs are the scores (one here; several in an AveragedDetector)."""
        return [self.model]

    def save(self, run_dir: str | os.PathLike) -> None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        self.model.save(run_dir / MODEL_FILE)
        self.save_config(run_dir)

    def save_config(self, run_dir: str | os.PathLike) -> None:
        """Rewrite detector.json only (e.g. after tuning counting settings)."""
        from model.outputs import atomic_write_text

        config = {
            "frontend": self.frontend.to_dict(),
            "classes": self.classes,
            "positive_class": self.positive_class,
            "arch": self.arch,
            "counting": self.counting.to_dict(),
            "pooling": self.pooling,
        }
        atomic_write_text(Path(run_dir) / DETECTOR_FILE, json.dumps(config, indent=2) + "\n")

    @classmethod
    def load(cls, run_dir: str | os.PathLike) -> "Detector":
        run_dir = trained_run_folder(run_dir)
        import keras

        import model.layers  # noqa: F401 - registers the project's layers for load_model

        config = json.loads((run_dir / DETECTOR_FILE).read_text())
        return cls(
            model=keras.saving.load_model(run_dir / MODEL_FILE),
            frontend=FrontendConfig.from_dict(config["frontend"]),
            classes=list(config["classes"]),
            arch=config.get("arch", "compact"),
            counting=CountingConfig.from_dict(config.get("counting", {})),
            positive_class=int(config.get("positive_class", 1)),
            pooling=config.get("pooling", "max"),
        )


@dataclass
class AveragedDetector:
    """Detectors of one front end and one class list that score as one: every window's class probabilities are
    the mean of theirs (`count_calls.py --model RUN RUN`, `predict.py --model RUN RUN`).

    Models trained apart are fooled by different sounds: averaged on the robustness benchmark's saved scores,
    pairs of runs made 3-4 false calls in 13.3 h of no-call audio where their models alone made 3-11, and
    counted the damaged forest recordings as well (docs/not-a-call.md, "Two models averaged"). Each model runs its own
    network, so counting takes longer. Counting settings are the first model's.
    """

    members: list[Detector]
    counting: CountingConfig

    frontend = property(lambda self: self.members[0].frontend)
    classes = property(lambda self: self.members[0].classes)
    positive_class = property(lambda self: self.members[0].positive_class)
    pooling = property(lambda self: self.members[0].pooling)
    arch = property(lambda self: "+".join(m.arch for m in self.members))
    networks = property(lambda self: [m.model for m in self.members])

    def probabilities(self, spectrograms) -> np.ndarray:
        return np.mean([m.probabilities(spectrograms) for m in self.members], axis=0)

    def window_probabilities(self, batch) -> np.ndarray:
        return np.mean([m.window_probabilities(batch) for m in self.members], axis=0)

    def score(self, spectrograms) -> np.ndarray:
        return self.probabilities(spectrograms)[:, self.positive_class]


def load_detector(run_dirs: str | os.PathLike | list) -> Detector | AveragedDetector:
    """The detector in one run folder, or the average of the detectors in several (AveragedDetector), which
    must share their front end and classes: an average only means something over the same spectrograms."""
    dirs = as_run_dirs(run_dirs)
    if len(dirs) == 1:
        return Detector.load(dirs[0])
    members = [Detector.load(d) for d in dirs]
    for d, m in zip(dirs[1:], members[1:]):
        for what, said in (("frontend", "front end"), ("classes", "classes"), ("positive_class", "call class")):
            if getattr(m, what) != getattr(members[0], what):
                raise ValueError(f"{d}: its {said} differs from {dirs[0]}'s; only models of the same front end "
                                 "and classes can be averaged")
    return AveragedDetector(members, counting=members[0].counting)


def as_run_dirs(run_dirs: str | os.PathLike | list) -> list[Path]:
    """One run folder or several, as a list of paths."""
    return [Path(run_dirs)] if isinstance(run_dirs, (str, os.PathLike)) else [Path(d) for d in run_dirs]


def shares_when_counted(run_dir: str | os.PathLike, hop_s: float | None = None) -> bool:
    """Whether a run folder's windows share their convolutions when counted at `hop_s` (default: the saved
    counting hop): `shared_trunk.shareable`'s rule, read from detector.json and model.keras's config without
    TensorFlow, so counting can choose its threads before TensorFlow starts. False for anything unreadable
    too: `Detector.load` says what is wrong."""
    import zipfile

    from data_pipeline.features.windows import hop_samples
    from model.detection.shared_trunk import block_time_pools, shares_at

    run_dir = run_folder(run_dir)
    try:
        config = json.loads((run_dir / DETECTOR_FILE).read_text())
        frontend = FrontendConfig.from_dict(config["frontend"])
        if hop_s is None:
            hop_s = config.get("counting", {}).get("hop_s", CountingConfig.hop_s)
        hop_frames = hop_samples(frontend, hop_s) // frontend.frame_step
        with zipfile.ZipFile(run_dir / MODEL_FILE) as archive:
            layers = {layer["config"]["name"]: layer for layer in json.loads(archive.read("config.json"))["config"]["layers"]}
        pools = block_time_pools({name: layer["config"].get("pool_size") for name, layer in layers.items()})
    except (AttributeError, OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        return False
    sliding = layers.get("standardise", {}).get("class_name") == "SlidingStandardise"
    return shares_at(sliding, "pool_centre" in layers, pools, frontend, hop_frames)
