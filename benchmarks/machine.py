"""The header line every benchmark table carries: machine, threads, torch, device, code version."""
from __future__ import annotations

import os
import pathlib
import platform
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
from tables import code_version  # noqa: E402  (dgmlib's version and the git commit of this checkout)


def cpu_name() -> str:
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe(device: torch.device) -> str:
    """E.g. 'machine: AMD EPYC (x86_64), 2 cores, 2 torch threads; torch 2.13.0+cpu; device cpu;
    dgmlib 0.1.0 at commit 1234abc'."""
    dev = str(device)
    if device.type == "cuda":
        dev += f" ({torch.cuda.get_device_name(device)})"
    version = code_version()
    commit = version.get("commit", "")[:7]
    code = f"dgmlib {version['dgmlib']}" + (f" at commit {commit}" if commit else "")
    if version.get("dgmlib_dirty"):
        code += " (with uncommitted changes)"
    return (f"machine: {cpu_name()} ({platform.machine()}), {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch threads; torch {torch.__version__}; device {dev}; {code}")
