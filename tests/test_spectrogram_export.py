"""export_spectrograms.py: images that are the front end's output, pixel for pixel."""

import subprocess
import sys

import numpy as np
from conftest import ROOT, sine
from test_other_datasets import run_script


def test_spectrogram_pngs_are_the_front_ends_output(tmp_path, write_audio):
    import matplotlib.pyplot as plt

    from model.learning.presets import get_preset

    fe = get_preset("glass_break").frontend
    tone = sine(1000, 2.0, 16000)
    write_audio("tone.wav", tone, 16000)
    write_audio("broken.wav", np.zeros(0, np.float32), 16000)
    done = subprocess.run([sys.executable, "export_spectrograms.py", str(tmp_path / "tone.wav"), str(tmp_path / "broken.wav"),
                           "--preset", "glass_break", "--out", str(tmp_path / "png")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "broken.wav" in done.stderr  # the bad file is named, the good one written
    image = plt.imread(tmp_path / "png" / "tone.png")
    assert image.shape[:2] == (fe.n_bins, fe.n_frames(len(tone)))  # one pixel per mel band and frame
    brightest_row = image[..., 0].mean(axis=1).argmax()
    mel_1k = fe.n_bins - 1 - brightest_row  # rows run from high to low frequency
    assert 10 < mel_1k < 25  # 1 kHz sits low on a 64-band mel scale up to 8 kHz

    run_script("export_spectrograms.py", tmp_path / "tone.wav", "--preset", "glass_break", "--windows",
               "--out", tmp_path / "windows")
    names = sorted(p.name for p in (tmp_path / "windows").iterdir())
    assert names == ["tone_0.00s.png", "tone_1.00s.png"]
    assert plt.imread(tmp_path / "windows" / names[0]).shape[:2] == (fe.n_bins, fe.input_shape[0])
