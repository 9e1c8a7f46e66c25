import subprocess
import sys

import pytest
from conftest import ROOT

from data_pipeline.audio.decoding import AudioDecodeError
from data_pipeline.audio.prefetch import background


def test_items_arrive_in_order_and_the_iterator_stays_exhausted():
    it = background(range(100), depth=3)
    assert list(it) == list(range(100))
    assert list(it) == []


def test_a_source_error_reaches_the_consumer_after_the_items_before_it():
    def source():
        yield 1
        yield 2
        raise AudioDecodeError("x.mp3", "decoding failed part-way")

    it = background(source())
    assert next(it) == 1 and next(it) == 2
    with pytest.raises(AudioDecodeError, match="x.mp3: decoding failed"):
        next(it)


def test_close_stops_the_thread_and_runs_the_sources_cleanup():
    closed = []

    def source():
        try:
            for i in range(10_000):
                yield i
        finally:
            closed.append(True)

    it = background(source(), depth=2)
    assert next(it) == 0
    it.close()
    assert not it._thread.is_alive() and closed == [True]


def test_closing_a_finished_iterator_is_harmless():
    with background(range(3)) as it:
        assert list(it) == [0, 1, 2]
    assert not it._thread.is_alive()


def test_a_reader_nobody_closed_is_closed_at_exit():
    # A Ctrl-C between a reader's start and its caller taking hold of it (to close it) left the thread inside
    # soxr as the interpreter shut down: "nanobind: leaked 1 instances!" (1 in 48 Ctrl-Cs while counting).
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from data_pipeline.audio.prefetch import background

def source():
    try:
        for i in range(10_000):
            yield i
    finally:
        print("source closed", flush=True)

assert next(background(source(), depth=2)) == 0
print("exiting", flush=True)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60).stdout
    assert out.splitlines() == ["exiting", "source closed"]
