"""Tests of cs231kit.features.extract_features: chunking, column layout, dtype, memory, errors."""

import tracemalloc

import numpy as np
import pytest

from cs231kit.features import extract_features


def mean_colour(images):
    """(n, 3) mean of each channel: a tiny feature function."""
    return images.reshape(len(images), -1, 3).mean(axis=1)


def brightness_histogram(images):
    """(n, 4) fraction of pixels in four brightness ranges (float64 work on the chunk)."""
    grey = images.astype(np.float64).mean(axis=-1).reshape(len(images), -1)
    return np.stack([np.mean((grey >= lo) & (grey < lo + 64), axis=1) for lo in (0, 64, 128, 192)], axis=1)


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, size=(23, 8, 8, 3), dtype=np.uint8)


@pytest.mark.parametrize("chunk_size", [1, 5, 23, 100])
def test_chunked_result_equals_one_call_on_the_whole_batch(images, chunk_size):
    features = extract_features(images, [mean_colour, brightness_histogram], chunk_size=chunk_size, progress=False)
    expected = np.hstack([mean_colour(images), brightness_histogram(images)]).astype(np.float32)
    assert features.dtype == np.float32 and features.shape == (23, 7)
    np.testing.assert_array_equal(features, expected)


def test_every_call_sees_at_most_chunk_size_images_and_the_input_is_untouched(images):
    sizes, before = [], images.copy()

    def recording(chunk):
        sizes.append(len(chunk))
        return mean_colour(chunk)

    extract_features(images, recording, chunk_size=10, progress=False, dtype=np.float64)
    assert sizes == [10, 10, 3]
    np.testing.assert_array_equal(images, before)


def test_fifty_thousand_images_would_need_no_float64_copy():
    # 4000 CIFAR-sized images: a float64 copy is 98 MB; chunks of 250 need a few MB at a time.
    images = np.zeros((4000, 32, 32, 3), dtype=np.uint8)
    tracemalloc.start()
    try:
        features = extract_features(images, brightness_histogram, chunk_size=250, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert features.shape == (4000, 4)
    assert peak < 20e6, f"peak {peak / 1e6:.1f} MB: more than a few chunks are alive at once"


def test_no_images_give_an_empty_matrix():
    assert extract_features(np.zeros((0, 8, 8, 3), np.uint8), mean_colour, progress=False).shape == (0, 0)


@pytest.mark.parametrize("fn, message", [
    (lambda chunk: np.zeros(len(chunk)), "returned shape (5,) for 5 images"),
    (lambda chunk: np.zeros((1, 3)), "one row per image"),
    (lambda chunk: np.full((len(chunk), 2), np.nan), "NaN or inf for images 0 to 4"),
    (lambda chunk: np.array([["a"]] * len(chunk)), "expected numbers"),
    (lambda chunk: np.zeros((len(chunk), chunk[0, 0, 0, 0] + 1)), "but 1 for the first chunk"),
])
def test_broken_feature_functions_are_named_clearly(images, fn, message):
    images = images[:10].copy()
    images[5:] = 2  # the second chunk's first pixel makes the last function change its width
    images[:5, 0, 0, 0] = 0
    with pytest.raises((ValueError, TypeError)) as failure:
        extract_features(images, fn, chunk_size=5, progress=False)
    assert message in str(failure.value) and "<lambda>" in str(failure.value)


@pytest.mark.parametrize("kwargs, message", [(dict(feature_fns=[]), "feature_fns is empty"),
                                             (dict(feature_fns=mean_colour, chunk_size=0), "chunk_size")])
def test_bad_arguments(images, kwargs, message):
    with pytest.raises(ValueError, match=message):
        extract_features(images, progress=False, **kwargs)


def test_progress_bar_counts_images(images, capsys):
    extract_features(images, mean_colour, chunk_size=10, progress=True, desc="colour")
    err = capsys.readouterr().err
    assert "colour" in err and "23/23" in err
