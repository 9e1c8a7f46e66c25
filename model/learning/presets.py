"""Starting settings per kind of sound: front end, how long files are windowed, network options.

`python train.py --preset NAME` picks one; every setting it makes is saved with the model
(front end and pooling in detector.json), so prediction repeats it. Each preset is what its
sounds call for, measured where the data allowed (README, "Other datasets"):

- capuchinbird: the default; 3 s windows, 0-2.5 kHz (see data_pipeline.features.frontend), the network
  scores the centre of its window so counting can keep close calls apart, and overlapping windows share
  its convolutions when counting (`shared_trunk`; `train.py --no-shared-trunk` for the window network).
  Half its training clips are heard at another pitch (`pitch_augment`; `--no-pitch-augment`): every call of
  the shared recordings has one pitch, and with the cow's moo in the generated bank a model trained at that
  pitch alone lost calls at others (docs/not-a-call.md, "The moo in the bank and calls at other pitches").
- heart: phonocardiograms at 2 kHz. Heart sounds and murmurs lie below ~600 Hz; 5 s windows
  hold 4-8 beats. Recordings of 5-122 s are cut into windows 2.5 s apart for training; the
  per-window probabilities are averaged into one decision per recording. The network averages
  over time rather than taking the maximum (a murmur is a property of every beat): 5-fold
  accuracy 0.764 and 0.757 (seeds 0 and 1) against 0.738 and 0.755, a small gain within the
  spread of the folds (benchmarks/preset_variants.py --network time_pooling=average; README).
- glass_break: one-second everyday sounds at 16 kHz, 64 mel bands up to 8 kHz.
- whale: Kaggle right-whale up-calls: 2 s at 2 kHz, the 50-250 Hz band where the up-call sweeps,
  with per-frequency median subtraction against ship noise and steady tones.
- everyday: ESC-50 / Freesound-style sound tagging: 5 s at 16 kHz, 64 mel bands; longer files
  are windowed and their windows averaged.

For the classification presets the network pools its whole window (centre_fraction 1.0): the
question is "what is in this clip?", not "is a call sounding in the middle of this window?".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from data_pipeline.features.augment import AugmentConfig, augment_setting, takes_pitch
from data_pipeline.features.frontend import FrontendConfig
from model.detection.events import CountingConfig


@dataclass(frozen=True)
class Preset:
    frontend: FrontendConfig
    window_hop_s: float | None = None  # cut files longer than a clip into windows this far apart (None: one clip per file)
    pooling: str = "max"  # window probabilities -> one per file: "max" (a call anywhere) or "mean" (the whole file)
    network: dict = field(default_factory=dict)  # options for the compact network's builder
    # Add the generated non-call bank (data_pipeline.synthetic.negatives) to training: for detectors whose
    # negative class means "anything else" at 16 kHz; not for heart sounds (silence is no "normal" heart),
    # 2 kHz whale clips (the bank's tones would alias) or N-class everyday sounds.
    negative_bank: bool = True
    # Train the compact network to share its convolutions across overlapping windows when counting
    # (frames standardised by their neighbours; docs/throughput.md "Counting with shared convolutions"): 2.6-3.6x faster
    # counting and a fifth of the false calls on sounds no training set held. Only for a preset whose
    # windows are scored from their centre at its counting hop.
    shared_trunk: bool = False
    # Train with half the clips at a pitch 0.8-1.25 times their own (data_pipeline.features.augment.PITCH_ONLY)
    # where the front end has linear frequency bins: calls of another pitch than the labelled ones are found.
    pitch_augment: bool = False


_WHOLE_WINDOW = {"centre_fraction": 1.0}

PRESETS = {
    "capuchinbird": Preset(FrontendConfig(), shared_trunk=True, pitch_augment=True),
    "heart": Preset(
        FrontendConfig(sample_rate_hz=2000, clip_s=5.0, frame_length=128, frame_step=40, fft_length=256,
                       min_freq_hz=20.0, max_freq_hz=800.0, silence_floor_dbfs=None),  # silence is no "normal" heart
        window_hop_s=2.5, pooling="mean", network={**_WHOLE_WINDOW, "time_pooling": "average"}, negative_bank=False),
    "glass_break": Preset(
        FrontendConfig(sample_rate_hz=16000, clip_s=1.0, frame_length=512, frame_step=160, fft_length=512,
                       min_freq_hz=0.0, max_freq_hz=8000.0, mel_bins=64),
        window_hop_s=0.5, pooling="max", network=_WHOLE_WINDOW),
    "whale": Preset(
        FrontendConfig(sample_rate_hz=2000, clip_s=2.0, frame_length=256, frame_step=20, fft_length=256,
                       min_freq_hz=50.0, max_freq_hz=250.0, median_subtraction=True, silence_floor_dbfs=None),
        window_hop_s=1.0, pooling="max", network=_WHOLE_WINDOW, negative_bank=False),
    "everyday": Preset(
        FrontendConfig(sample_rate_hz=16000, clip_s=5.0, frame_length=512, frame_step=160, fft_length=512,
                       min_freq_hz=0.0, max_freq_hz=8000.0, mel_bins=64),
        window_hop_s=2.5, pooling="mean", network=_WHOLE_WINDOW, negative_bank=False),
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]


def bank_per_kind(preset: Preset, requested: int | None = None) -> int:
    """Generated non-call clips per kind for a run: as requested, else the default where the preset uses the bank."""
    from model.learning.training import TrainConfig

    if requested is not None:
        return requested
    return TrainConfig.negative_bank_per_kind if preset.negative_bank else 0


def preset_counting(preset: Preset) -> CountingConfig | None:
    """Counting settings of a preset whose files are cut into windows (None: the network's defaults): its hop,
    no pulse, harmonic or pitch-glide gate, whose figures were measured on Capuchinbird calls (heartbeats pulse and
    hold no harmonic stack, and mel bands cannot show pulsing anyway), and no joining of close calls, whose 7 s is the
    Capuchinbird's longest call."""
    if not preset.window_hop_s:
        return None
    return CountingConfig(hop_s=preset.window_hop_s, max_pulse_spread_db=0.0, join_within_s=0.0, min_harmonicity=0.0,
                          max_pitch_glide_oct_s=0.0)


def shares_by_default(preset: Preset, arch: str, swept_config: str | None = None) -> bool:
    """Whether a run of `preset` trains the shared-convolution network when neither --shared-trunk nor
    --no-shared-trunk is given: the compact network only, and not from a sweep's best.json (which keeps the
    network it was swept with)."""
    return preset.shared_trunk and arch == "compact" and not swept_config


def preset_augment(preset: Preset, frontend: FrontendConfig, augment: bool = False,
                   pitch: bool | None = None) -> AugmentConfig | None:
    """The augmentation of a run of `preset` (data_pipeline.features.augment.augment_setting): --augment's parts
    if asked, and the pitch as --pitch-augment / --no-pitch-augment say; with neither, the preset's, where
    `frontend` can take it (linear frequency bins, no pulse panel: a sweep's best.json may choose mel bands)."""
    if pitch is None:
        pitch = preset.pitch_augment and takes_pitch(frontend)
    return augment_setting(augment, pitch)
