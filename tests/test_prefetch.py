import pytest

from data_pipeline.audio_io import AudioDecodeError
from data_pipeline.prefetch import background


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
