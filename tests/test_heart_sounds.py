"""Real heart-sound recordings (PhysioNet 2016) from ../shared: `train.py --preset heart --folds K` (issue #6).

The floor sits below what this exact test measured (README, "Other datasets: Results"), so a real
regression fails CI while run-to-run noise does not. Skipped where ../shared/ is absent.
"""

import pytest
from conftest import SHARED, cross_validate_preset

pytestmark = pytest.mark.slow  # trains networks: `make test-fast` skips it


@pytest.mark.skipif(not (SHARED / "heart" / "REFERENCE.csv").exists(), reason="shared heart sounds absent")
def test_heart_recordings_windowed_and_pooled_per_recording(tmp_path):
    # Tried for speed: windows every 5 s and 10 epochs gave 0.687 on one fold, too close to the floor to keep;
    # every 5 s with 15 epochs 0.698. At most 8 epochs (2026-12-04): 0.764 against 0.741 with 15, in 165 s
    # against 258 s (both beside other work); with seed 1 0.718 either way (early stopping ends it sooner).
    summary, classes = cross_validate_preset(SHARED / "heart", "heart", tmp_path, 2, epochs=8)
    pooled = summary["pooled_over_folds"]
    assert classes == ["normal", "abnormal"]
    assert summary["files"] == 301 and sum(map(sum, pooled["confusion"])) == 301  # one decision per recording
    assert pooled["accuracy"] >= HEART_FLOOR, pooled


HEART_FLOOR = 0.68  # measured 0.764 (2 folds, seed 0, 8 epochs; seed 1: 0.718)
