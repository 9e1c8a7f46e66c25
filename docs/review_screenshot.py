"""Remake docs/review_page.png, the README's picture of the review page, from `make demo`'s synthetic data.

    make demo && .venv/bin/python docs/review_screenshot.py

Starts review.py over the demo's count on a free loopback port, answers the first item in Chromium
(Playwright), opens the summary and photographs the page; the review is written to a temporary folder.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from playwright.sync_api import sync_playwright

    demo = ROOT / "demo"
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "submission.csv"
        for name in ("submission_events.csv", "submission_parts"):  # review a copy: the demo stays as it was
            source = demo / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, Path(scratch) / name)
        server = subprocess.Popen([sys.executable, str(ROOT / "review.py"), "--input", str(demo / "data" / "Forest Recordings"),
                                   "--output", str(output), "--model", str(demo / "run"), "--order", "score", "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            url = server.stdout.readline().split()[1]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url)
                page.wait_for_function("document.getElementById('spec').naturalWidth > 0")
                page.keyboard.press("y")
                page.wait_for_function("document.getElementById('position').textContent.startsWith('item 2')")
                page.wait_for_function("document.getElementById('spec').naturalWidth > 0")
                page.keyboard.press("s")
                page.wait_for_function("document.querySelector('#summary img') && "
                                       "document.querySelector('#summary img').naturalWidth > 0")
                page.screenshot(path=str(ROOT / "docs" / "review_page.png"), full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
