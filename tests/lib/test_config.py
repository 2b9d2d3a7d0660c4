import random

import numpy as np
import pytest
import torch

import dgmlib


def test_device_is_cpu_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert dgmlib.device() == torch.device("cpu")


def test_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert dgmlib.device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert dgmlib.device() == torch.device("mps")


def test_seed_everything_repeats_every_generator():
    def draw():
        g = dgmlib.seed_everything(123)
        return random.random(), np.random.rand(), torch.rand(3), torch.rand(2, generator=g)
    a, b = draw(), draw()
    assert a[0] == b[0] and a[1] == b[1]
    assert torch.equal(a[2], b[2]) and torch.equal(a[3], b[3])


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_everything_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="seed"):
        dgmlib.seed_everything(bad)


@pytest.mark.parametrize("value, quick", [("1", True), ("true", True), ("0", False), ("", False)])
def test_budget_reads_quick_flag(monkeypatch, value, quick):
    monkeypatch.setenv("DGMLIB_QUICK", value)
    assert dgmlib.is_quick() is quick
    assert dgmlib.budget(full=300, quick=5) == (5 if quick else 300)


def test_budget_full_when_flag_unset(monkeypatch):
    monkeypatch.delenv("DGMLIB_QUICK", raising=False)
    assert dgmlib.budget(full="full", quick="quick") == "full"
