"""The synthetic data's noise: made at a length NumPy's FFT is quick at, with the values it had where that changes nothing."""

import numpy as np
import pytest

from data_pipeline.synthetic.capuchinbird import band_noise, fft_length, pink_noise


def _largest_prime_factor(n: int) -> int:
    p, largest = 2, 1
    while p * p <= n:
        while n % p == 0:
            n, largest = n // p, p
        p += 1
    return max(largest, n)


@pytest.mark.parametrize("n", [1, 2, 13, 97, 1000, 48000, 132300, 184495, 217914, 220237])
def test_the_fft_length_is_the_first_from_n_on_with_no_prime_factor_above_11(n):
    m = fft_length(n)
    assert m >= n and _largest_prime_factor(m) <= 11
    assert all(_largest_prime_factor(k) > 11 for k in range(n, m))
    assert (m == n) == (_largest_prime_factor(n) <= 11)  # 3 s at 44.1 kHz (132300 = 2^2 3^3 5^2 7^2) keeps its length


@pytest.mark.parametrize("n,sr", [(48000, 16000), (132300, 44100), (144000, 48000)])
def test_noise_of_a_quick_length_is_what_the_plain_fft_made(n, sr):
    """The generated non-call bank (clips of 3 s at 16 kHz and the like) holds the same samples as before the
    lengths were rounded up: only sounds of awkward lengths changed."""
    def plain(seed, shape):
        spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
        x = np.fft.irfft(shape(spectrum, np.fft.rfftfreq(n, 1 / sr)), n)
        return x / (np.sqrt(np.mean(x**2)) + 1e-12)

    band = plain(0, lambda s, f: np.where((f < 250) | (f > 3000), 0, s))
    np.testing.assert_array_equal(band_noise(np.random.default_rng(0), n, sr, 250, 3000), band)
    pink = plain(1, lambda s, f: s / np.sqrt(np.maximum(f, 20.0)))
    np.testing.assert_array_equal(pink_noise(np.random.default_rng(1), n, sr), pink)


def test_noise_of_an_awkward_length_is_as_long_as_asked_in_its_band_at_unit_rms():
    n, sr = 220237, 44100  # 113 x 1949: a 5 s call's length
    x = band_noise(np.random.default_rng(0), n, sr, 500, 900)
    assert len(x) == n and np.sqrt(np.mean(x**2)) == pytest.approx(1.0, rel=1e-6)
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / sr)
    inside = power[(freqs >= 450) & (freqs <= 950)].sum() / power.sum()
    assert inside > 0.99, inside  # cut from a longer stretch, so a little leaks past the band's edges
