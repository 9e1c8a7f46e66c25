"""The installed TensorFlow is the user's: installing the requirements never adds a second copy.

pip treats `tensorflow`, `tensorflow-cpu` and `tensorflow[and-cuda]` as unrelated packages, so a
requirements file naming any one of them installs it beside whichever one a notebook already has.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.environment
TENSORFLOW_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tf-nightly")


def _requirement_names(path: Path) -> list[str]:
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.append(line.split(";")[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower())
    return names


def test_requirements_name_no_tensorflow_distribution():
    assert not set(_requirement_names(ROOT / "requirements.txt")) & set(TENSORFLOW_DISTRIBUTIONS)


def test_installing_the_requirements_here_keeps_the_installed_tensorflow(tmp_path):
    import tensorflow as tf

    report = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report),
                    "-r", str(ROOT / "requirements-dev.txt")], check=True, cwd=ROOT)
    would_install = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                     for item in json.loads(report.read_text())["install"]}
    assert not set(would_install) & set(TENSORFLOW_DISTRIBUTIONS), (tf.__version__, would_install)
    assert "keras" not in would_install and "numpy" not in would_install, would_install


def test_supported_versions():
    import keras
    import numpy as np
    import tensorflow as tf

    version = lambda v: tuple(int(x) for x in v.split(".")[:2])  # noqa: E731
    assert (2, 16) <= version(tf.__version__) <= (2, 21), tf.__version__
    assert version(keras.__version__)[0] == 3 and (1, 26) <= version(np.__version__) < (3, 0)
    assert (3, 10) <= sys.version_info[:2] <= (3, 13)


def test_keras_starts_without_scikit_learn_or_matplotlib_which_stay_importable():
    """model.cli keeps Keras from importing scikit-learn and matplotlib at start-up (for its wrappers and its
    image galleries, unused here; README "Throughput"); cross-validation and the plots import them when they run."""
    code = ("import io, sys; from model import cli; cli.start_keras_without_extras(); import tensorflow, keras; "
            "print('sklearn' in sys.modules, 'matplotlib' in sys.modules); "
            "print(float(keras.layers.Dense(1, kernel_initializer='ones')(keras.ops.ones((1, 2)))[0, 0])); "
            "from sklearn.model_selection import StratifiedGroupKFold; print(StratifiedGroupKFold(2).n_splits); "
            "import matplotlib.pyplot as plt; png = io.BytesIO(); plt.plot([0, 1]); plt.savefig(png, format='png'); "
            "print(png.getvalue()[1:4].decode())")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False", "2.0", "2", "PNG"]
