"""Several trained models scoring as one (`--model RUN RUN`, model.detection.detector.AveragedDetector): each
window's probabilities are the mean of the models', in one process and on Dask alike; models of different
front ends are refused in one line."""

import numpy as np
import pytest
from conftest import chirp_recordings, output_bytes, run_script


def _untrained(folder, seed, **frontend_changes):
    import dataclasses

    import keras

    from model.detection.detector import Detector
    from model.learning.networks import build_model
    from model.learning.training import default_frontend

    keras.utils.set_random_seed(seed)
    frontend = dataclasses.replace(default_frontend("compact"), **frontend_changes)
    net = build_model("compact", frontend.input_shape, 2, frontend=frontend)
    Detector(net, frontend, ["no call", "call"]).save(folder)
    return folder


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return _untrained(root / "a", 1), _untrained(root / "b", 2)


def test_an_averaged_detector_scores_the_mean_of_its_models(two_models):
    from data_pipeline.features.windows import iter_windows
    from model.detection.detector import AveragedDetector, load_detector
    from model.detection.score_parts import scoring_fingerprint

    a, b = load_detector(two_models[0]), load_detector(two_models[1])
    both = load_detector(list(two_models))
    assert isinstance(both, AveragedDetector) and both.frontend == a.frontend and both.counting == a.counting
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(20 * a.frontend.sample_rate_hz)).astype(np.float32)
    batch = next(iter_windows(iter([audio]), a.frontend, 0.25))
    pa, pb = a.window_probabilities(batch), b.window_probabilities(batch)
    assert np.abs(pa - pb).max() > 1e-3  # two different networks, or the test shows nothing
    np.testing.assert_allclose(both.window_probabilities(batch), (pa + pb) / 2, atol=1e-6)
    np.testing.assert_allclose(both.score(batch.spectrograms), (pa + pb)[:, 1] / 2, atol=1e-5)
    prints = {scoring_fingerprint(d, 0.25) for d in (a, b, both)}
    assert len(prints) == 3  # a resumed count never mixes parts scored by one model with the average's


def test_models_of_another_front_end_are_refused_in_one_line(two_models, tmp_path):
    from model.detection.detector import load_detector

    other = _untrained(tmp_path / "loud", 3, log_floor=1e-3)
    with pytest.raises(ValueError, match=f"^{other}: its front end differs from {two_models[0]}'s"):
        load_detector([two_models[0], other])


@pytest.mark.slow  # a Dask cluster of TensorFlow processes
def test_count_calls_averages_the_models_here_and_on_dask(two_models, tmp_path):
    chirp_recordings(tmp_path / "rec", 2, 30)
    scores = {}
    for name, models in (("a", two_models[:1]), ("b", two_models[1:]), ("ab", two_models), ("dask", two_models)):
        extra = ("--workers", "1") if name == "dask" else ()
        proc = run_script("count_calls.py", "--input", "rec", "--model", *models, "--output", f"{name}/counts.csv",
                          *extra, cwd=tmp_path)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        scores[name] = np.concatenate([np.load(p)["scores"] for p in sorted((tmp_path / name).glob("counts_parts/*.npz"))])
    assert "model: " + " + ".join(map(str, two_models)) in proc.stderr
    np.testing.assert_allclose(scores["ab"], (scores["a"] + scores["b"]) / 2, atol=1e-6)
    assert output_bytes(tmp_path / "dask") == output_bytes(tmp_path / "ab")
