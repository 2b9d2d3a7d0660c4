"""Test options: ``--dtype`` (float32 | float64) sets torch's default dtype for the whole run,
``--device`` (cpu | cuda | mps | auto) the device the tests put models and data on.

``make test`` runs the suite once in float32 and the library tests again in float64: float64
catches the same bugs as a device mismatch (a tensor created without its inputs' dtype).
"""
import pytest
import torch

import dgmlib


def pytest_addoption(parser):
    parser.addoption("--dtype", default="float32", choices=["float32", "float64"],
                     help="torch default dtype for the run")
    parser.addoption("--device", default="cpu", help="cpu, cuda, mps, or auto (dgmlib.device())")


def pytest_configure(config):
    dtype = config.getoption("--dtype", default="float32")
    torch.set_default_dtype(getattr(torch, dtype))


def pytest_report_header(config):
    return f"dgmlib {dgmlib.__version__}; torch {torch.__version__}; default dtype {torch.get_default_dtype()}"


@pytest.fixture(scope="session")
def device(pytestconfig) -> torch.device:
    name = pytestconfig.getoption("--device")
    dev = dgmlib.device() if name == "auto" else torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        pytest.skip("CUDA requested but not available")
    return dev


@pytest.fixture(scope="session")
def dtype() -> torch.dtype:
    return torch.get_default_dtype()


@pytest.fixture(scope="session")
def tol(dtype) -> float:
    """Relative tolerance for identities that hold to floating-point precision."""
    return 1e-4 if dtype == torch.float32 else 1e-9


@pytest.fixture(scope="session")
def digits():
    return dgmlib.load("digits")
