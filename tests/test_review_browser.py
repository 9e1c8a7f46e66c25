"""review.py in a real browser (Playwright driving the machine's Chromium) against the server on a loopback port.

`.ci/run` installs Debian's chromium where it is missing and sets REQUIRE_BROWSER=1, so that there a
missing browser fails the run instead of skipping these tests; elsewhere they are skipped without it.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pandas as pd
import pytest
from conftest import ROOT, designed_count, free_ports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if os.environ.get("REQUIRE_BROWSER") == "1" and CHROMIUM is None:
    raise RuntimeError("REQUIRE_BROWSER=1 but no chromium on PATH: the review page's browser tests cannot run")
if os.environ.get("REQUIRE_BROWSER") == "1":
    import playwright.sync_api as playwright  # missing: an ImportError fails the run
else:
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed (requirements-dev.txt)")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")]

SCORES = {"a.wav": [(10, 15, 0.97), (30, 31, 0.3)], "b.wav": [(20, 26, 0.62), (40, 41.5, 0.45)]}


class Review:
    """review.py as a user starts it, on a free port; restartable, always stopped."""

    def __init__(self, folder, model):
        self.args = [sys.executable, str(ROOT / "review.py"), "--input", str(folder / "a.wav"), str(folder / "b.wav"),
                     "--output", str(folder / "counts.csv"), "--model", str(model), "--order", "score",
                     "--port", str(free_ports(1)[0])]
        self.process = None

    def start(self):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        # stderr to a file, not a pipe: nobody reads it while the test runs, and a full pipe (64 kB) would stall the server
        self.stderr = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env)
        line = self.process.stdout.readline()  # "open http://127.0.0.1:PORT/ ..." once it listens
        assert line.startswith("open http://127.0.0.1:"), line + self.said()
        self.url = line.split()[1]
        return self

    def said(self) -> str:
        """What the server wrote to stderr so far."""
        self.stderr.seek(0)
        return self.stderr.read()

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def review(tmp_path, untrained_model):
    designed_count(tmp_path, untrained_model, SCORES)
    server = Review(tmp_path, untrained_model).start()
    yield server
    if server.process.poll() is None:
        server.kill()


@pytest.fixture
def browser():
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _open(browser, url):
    page = browser.new_page()
    page.goto(url)
    page.wait_for_function("document.getElementById('position').textContent.startsWith('item')")
    return page


def _at(page, n):
    page.wait_for_function(f"document.getElementById('position').textContent.startsWith('item {n} of')")


def _decided(path):
    """The decided rows of a review CSV (it lists every item; undecided ones have no decision)."""
    table = pd.read_csv(path)
    return table[table["decision"].notna()].reset_index(drop=True)


def _review_file(folder, rows, timeout=10):
    """The review CSV's decided rows once there are `rows` of them."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        path = folder / "counts_review.csv"
        table = _decided(path) if path.exists() else None
        if table is not None and len(table) == rows:
            return table
        time.sleep(0.1)
    raise AssertionError(f"the review file did not reach {rows} decisions: {table}")


def test_decisions_made_with_keys_are_written_kept_on_reload_and_across_a_killed_server(review, browser, tmp_path):
    page = _open(browser, review.url)
    assert page.text_content("#position") == "item 1 of 4"  # two detections, two near misses; by score
    assert page.text_content("#where") == "a.wav 9.88-14.88 s"
    page.wait_for_function("document.getElementById('spec').naturalWidth > 0")  # the spectrogram image loaded
    page.wait_for_function("document.getElementById('audio').duration > 0")
    assert page.evaluate("document.getElementById('audio').duration") == pytest.approx(11.0, abs=0.01)  # 3 s context

    edge = page.locator("#box .edge.end").bounding_box()  # drag the end 1 s later (11 s across the image)
    width = page.locator("#view").bounding_box()["width"]
    page.mouse.move(edge["x"] + edge["width"] / 2, edge["y"] + 10)
    page.mouse.down()
    page.mouse.move(edge["x"] + edge["width"] / 2 + width / 11, edge["y"] + 10, steps=5)
    page.mouse.up()
    page.keyboard.press("y")
    _at(page, 2)
    page.keyboard.press("]")  # start 0.25 s later, then reject
    page.keyboard.press("n")
    _at(page, 3)
    table = _review_file(tmp_path, 2)
    assert table[["recording", "start", "kind", "decision"]].values.tolist() == [
        ["a.wav", 9.875, "detection", "yes"], ["b.wav", 20.125, "detection", "no"]]
    assert table["end"].tolist() == [pytest.approx(15.875, abs=0.05), 25.875]

    page.reload()
    _at(page, 3)  # reopens at the first undecided item
    page.keyboard.press("k")
    _at(page, 2)
    assert page.text_content("#decision") == "no"

    review.kill()  # no clean shutdown: the decisions must already be on disk
    review.start()
    page = _open(browser, review.url)
    assert page.text_content("#position") == "item 3 of 4"
    page.keyboard.press("u")
    _at(page, 4)
    assert _review_file(tmp_path, 3)["decision"].tolist() == ["yes", "no", "unsure"]

    page.keyboard.press("s")  # the summary: verified counts, precision table and plot, also written beside the count
    page.wait_for_function("document.querySelector('#summary img') && document.querySelector('#summary img').naturalWidth > 0")
    assert "not a fair sample" in page.text_content("#bias")  # reviewed by score: the estimate is said to be biased
    rows = page.locator("#verified tr").all_inner_texts()
    assert [r.split("\t") for r in rows[1:]] == [["a.wav", "1", "1", "1", "0", "0", "0", "1"],
                                                 ["b.wav", "1", "1", "0", "1", "0", "0", "0"]]
    precision = pd.read_csv(tmp_path / "counts_precision.csv").set_index("threshold")
    assert precision.loc[0.5, ["reviewed", "confirmed", "precision"]].tolist() == [2, 1, 0.5]  # the near miss was unsure
    assert (tmp_path / "counts_precision.png").stat().st_size > 0


def test_two_tabs_do_not_overwrite_each_other(review, browser, tmp_path):
    first, second = _open(browser, review.url), _open(browser, review.url)
    first.keyboard.press("y")
    _at(first, 2)
    second.keyboard.press("n")  # still showing item 1 as undecided
    second.wait_for_function("document.getElementById('message').textContent.includes('decided meanwhile')")
    assert second.text_content("#decision") == "yes"  # it now shows what the first tab stored
    assert _review_file(tmp_path, 1)["decision"].tolist() == ["yes"]
    second.keyboard.press("n")  # seen, and changed on purpose
    _at(second, 2)
    assert _review_file(tmp_path, 1)["decision"].tolist() == ["no"]


def test_a_missed_call_marked_in_the_page_becomes_a_call_train_py_reads(review, browser, tmp_path):
    from data_pipeline.training_data.clips import training_clips

    page = _open(browser, review.url)
    page.wait_for_function("document.getElementById('spec').naturalWidth > 0")
    box = page.locator("#view").bounding_box()  # item 1 shows 6.875-17.875 s of a.wav across the image
    x = lambda t: box["x"] + (t - 6.875) / 11.0 * box["width"]  # noqa: E731
    page.mouse.move(x(15.5), box["y"] + 20)
    page.mouse.down()
    page.mouse.move(x(17.5), box["y"] + 20, steps=5)
    page.mouse.up()
    page.keyboard.press("c")
    page.wait_for_function("document.getElementById('message').textContent.startsWith('marked a call')")
    table = _review_file(tmp_path, 1)
    assert table[["recording", "kind", "decision"]].values.tolist() == [["a.wav", "added", "yes"]]
    assert table["start"].iloc[0] == pytest.approx(15.5, abs=0.05) and table["end"].iloc[0] == pytest.approx(17.5, abs=0.05)
    clips, classes, _ = training_clips(None, [tmp_path / "a.wav", tmp_path / "b.wav"], None, 1.0,
                                       review_path=tmp_path / "counts_review.csv")
    start, end = table["start"].iloc[0], table["end"].iloc[0]
    calls = clips[clips["label"] == classes[1]]
    centres = calls["start"] + 0.5  # every 0.5 s, at least 0.5 s inside the marked call
    assert len(calls) >= 2 and centres.between(start + 0.5, end - 0.5).all()
    # The rest of a.wav (reviewed) is background, clear of every item; b.wav (nothing decided) gives nothing.
    background = clips[clips["label"] == classes[0]]
    items = pd.read_csv(tmp_path / "counts_review.csv")
    a_items = items[items["recording"] == "a.wav"][["start", "end"]].to_numpy()
    assert len(background) > 10 and background["file"].str.endswith("a.wav").all()
    assert all(s + 1.0 <= i0 or s >= i1 for s in background["start"] for i0, i1 in a_items)


def _post(url, body, headers):
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_only_the_pages_own_requests_change_anything_and_no_path_reaches_a_file(review, tmp_path):
    url = review.url + "api/items/1/decision"
    body = b'{"decision": "no", "version": 0}'
    assert _post(url, body, {"Content-Type": "application/json", "Origin": "http://evil.example"}) == 403
    assert _post(url, b"decision=no", {"Content-Type": "application/x-www-form-urlencoded"}) == 403  # a plain form
    assert _post(url, body, {"Content-Type": "application/json", "Host": "evil.example"}) == 403  # DNS rebinding
    assert not (tmp_path / "counts_review.csv").exists() or len(_decided(tmp_path / "counts_review.csv")) == 0
    for path in ("../counts.csv", "..%2fcounts_events.csv", "api/items/99/audio.wav", "a.wav"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(review.url + path)
        assert err.value.code == 404
    assert _post(url, body, {"Content-Type": "application/json", "Origin": review.url.rstrip("/")}) == 200
