"""The tiny shapes data set: deterministic from a seed, factors recoverable from the pixels."""
import pytest
import torch

from dgmlib import shapes


def test_same_seed_gives_the_same_images_and_factors_and_another_seed_does_not():
    a, b = shapes.load_shapes(200, 20, 20, seed=3), shapes.load_shapes(200, 20, 20, seed=3)
    c = shapes.load_shapes(200, 20, 20, seed=4)
    assert torch.equal(a.data.train, b.data.train) and torch.equal(a.test_factors, b.test_factors)
    assert not torch.equal(a.train_factors, c.train_factors)


def test_splits_have_the_requested_sizes_binary_pixels_and_the_default_dtype(dtype):
    s = shapes.load_shapes(50, 7, 9)
    assert s.data.train.shape == (50, 256) and s.data.val.shape == (7, 256) and s.data.test.shape == (9, 256)
    assert s.data.train.dtype == dtype and s.data.shape == (16, 16)
    assert set(s.data.train.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(s.data.train_labels, s.train_factors[:, 0])
    assert s.factors("val").shape == (7, 4)


def test_images_are_the_rendering_of_their_factors():
    s = shapes.load_shapes(100, 10, 10, seed=1)
    assert torch.equal(shapes.render(s.train_factors, s.data.train.dtype), s.data.train)


def test_centroid_of_the_lit_pixels_is_the_x_and_y_position_for_every_combination(dtype):
    f = shapes.all_factors()
    assert f.shape == (576, 4) and len(torch.unique(f, dim=0)) == 576
    c = shapes.centroids(shapes.render(f, dtype))
    pos = torch.tensor(shapes.POSITIONS, dtype=dtype)
    assert torch.allclose(c[:, 0], pos[f[:, 2]]) and torch.allclose(c[:, 1], pos[f[:, 3]])


def test_pixel_counts_follow_the_shape_formulas_at_every_position():
    f = shapes.all_factors()
    counts = shapes.render(f, torch.float64).sum(1)
    # square (2r+1)^2, diamond 2r^2 + 2r + 1; every (shape, scale) has its own count
    r = torch.tensor(shapes.SCALES)[f[:, 1]]
    assert torch.equal(counts[f[:, 0] == 0].long(), ((2 * r + 1) ** 2)[f[:, 0] == 0])
    assert torch.equal(counts[f[:, 0] == 2].long(), (2 * r * r + 2 * r + 1)[f[:, 0] == 2])
    # the count depends on shape and scale only (the drawing is translation invariant)
    for a in range(3):
        for b in range(3):
            assert len(counts[(f[:, 0] == a) & (f[:, 1] == b)].unique()) == 1


def test_shapes_stay_inside_the_image():
    f = shapes.all_factors()
    img = shapes.render(f, torch.float64).reshape(-1, 16, 16)
    r = torch.tensor(shapes.SCALES)[f[:, 1]]
    # nothing is cut off: the square's count is exact even at the border positions
    assert torch.equal(img[f[:, 0] == 0].sum((1, 2)).long(), ((2 * r + 1) ** 2)[f[:, 0] == 0])


def test_factors_are_roughly_uniform_and_independent():
    s = shapes.load_shapes(3000, 1, 1, seed=0)
    for k, size in enumerate(shapes.FACTOR_SIZES):
        freq = torch.bincount(s.train_factors[:, k], minlength=size).double() / 3000
        assert (freq - 1 / size).abs().max() < 0.04


def test_bad_input_raises_a_clear_error():
    with pytest.raises(ValueError, match="out of range"):
        shapes.render(torch.tensor([[0, 0, 8, 0]]))
    with pytest.raises(ValueError, match="integer"):
        shapes.render(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="at least one"):
        shapes.load_shapes(0, 1, 1)
    with pytest.raises(ValueError, match="no lit pixel"):
        shapes.centroids(torch.zeros(1, 256))
