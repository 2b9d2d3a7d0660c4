"""The dequantization chapter's results table: flows on the 17-level digits with uniform and with
variational dequantization (Theis et al., 2016; Ho et al., 2019), and a VAE with a discretized
logistic likelihood (Kingma et al., 2016), all in bits per dimension on the same test split.

    python -m dgmlib.experiments dequantization --workers 1     # -> dgmlib/results/dequantization.json

Every model is trained by maximizing its bound (the dequantization bound is an ELBO with the noise
as the latent variable) and keeps the weights of its best validation bound (checked every
``check_every`` epochs; training stops after ``patience`` epochs without improvement): with ~1300
training images a flow overfits within a few hundred epochs.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import math
import time
from typing import Any

import torch


@dataclasses.dataclass(frozen=True)
class DequantizationSettings:
    """Flows (affine couplings) with uniform / variational dequantization vs a discretized-logistic VAE."""
    seeds: tuple[int, ...] = (0, 1, 2)
    models: tuple[str, ...] = ("uniform", "variational", "vae")
    flow_layers: int = 8
    flow_hidden: tuple[int, ...] = (128,)
    deq_layers: int = 4
    deq_hidden: tuple[int, ...] = (64,)
    alpha: float = 0.05
    vae_z_dim: int = 16
    vae_hidden: tuple[int, ...] = (256, 256)
    epochs: int = 300
    check_every: int = 10
    patience: int = 60
    batch_size: int = 100
    lr: float = 1e-3
    bound_K: int = 16
    iw_K: int = 1000
    dataset: str = "digits"


QUICK_SETTINGS = DequantizationSettings(seeds=(0,), flow_layers=2, flow_hidden=(32,), deq_layers=1,
                                        deq_hidden=(16,), vae_z_dim=4, vae_hidden=(32,), epochs=2,
                                        check_every=1, patience=2, bound_K=2, iw_K=20)


def build_model(s: DequantizationSettings, name: str, dim: int, levels: int) -> torch.nn.Module:
    """The model of row ``name``: "uniform" / "variational" (a dequantized flow) or "vae"."""
    from .dequantization import build_dequantized_flow
    from .builders import build_vae

    if name == "vae":
        likelihood = "discretized_logistic" if levels == 17 else f"discretized_logistic_{levels}"
        return build_vae(dim, s.vae_z_dim, hidden=s.vae_hidden, likelihood=likelihood)
    return build_dequantized_flow(dim, levels, name, layers=s.flow_layers, hidden=s.flow_hidden,
                                  deq_layers=s.deq_layers, deq_hidden=s.deq_hidden, alpha=s.alpha)


def fit_best(model: torch.nn.Module, data, s: DequantizationSettings, seed: int) -> tuple[int, float, int]:
    """Maximize the ELBO (one noise / latent sample) with Adam; keep the weights with the best
    validation bound. Returns (best epoch, best validation bound in nats, epochs run)."""
    from .objectives import elbo
    from .train import fit

    optimizer = torch.optim.Adam(model.parameters(), lr=s.lr)
    best, best_state, best_epoch, epoch = -math.inf, copy.deepcopy(model.state_dict()), 0, 0
    while epoch < s.epochs and epoch - best_epoch < s.patience:
        n = min(s.check_every, s.epochs - epoch)
        history = fit(model, data, epochs=n, objective=elbo, lr=s.lr, batch_size=s.batch_size,
                      seed=1000 * seed + epoch, optimizer=optimizer, val_every=n, progress=False)
        epoch += n
        if history.val[-1] > best:
            best, best_state, best_epoch = history.val[-1], copy.deepcopy(model.state_dict()), epoch
    model.load_state_dict(best_state)
    model.eval()
    return best_epoch, best, epoch


def run_task(s: DequantizationSettings, name: str, seed: int, device: str) -> dict[str, Any]:
    from .config import seed_everything
    from .data import load
    from .metrics import bits_per_dim, log_marginal_likelihood
    from .objectives import elbo

    data = load(s.dataset, binarize=False, device=device)
    seed_everything(seed)
    model = build_model(s, name, data.dim, data.levels).to(device)
    start = time.perf_counter()
    best_epoch, best_val, epochs_run = fit_best(model, data, s, seed)
    seconds = time.perf_counter() - start
    bpd = functools.partial(bits_per_dim, dim=data.dim)
    seed_everything(10_000 + seed)
    with torch.no_grad():
        test_bound = elbo(model, data.test, K=s.bound_K).mean().item()
        train_bound = elbo(model, data.train, K=s.bound_K).mean().item()
        test_iw = log_marginal_likelihood(model, data.test, K=s.iw_K).mean().item()
    return {"model": name, "seed": seed, "test_bound_bpd": bpd(-test_bound), "test_iw_bpd": bpd(-test_iw),
            "train_bound_bpd": bpd(-train_bound), "val_bound_bpd": bpd(-best_val),
            "test_bound_nats": test_bound, "best_epoch": best_epoch, "epochs_run": epochs_run,
            "parameters": sum(p.numel() for p in model.parameters()), "train_seconds": round(seconds, 1)}


def tasks(s: DequantizationSettings) -> list[tuple]:
    return [(s, name, seed) for seed in s.seeds for name in s.models]


#: CIFAR-10 test bits/dim (8-bit, 3072 dimensions): Ho et al. (2019), Table 1 and the ablation of
#: Table 2 (uniform vs variational dequantization at the same training budget); Kingma et al. (2016).
PAPER = {"uniform": "3.292 (Flow++ ablation, uniform)",
         "variational": "3.165 (Flow++ ablation); 3.08 (full Flow++)",
         "vae": "3.15 (IAF-VAE, ELBO); 3.11 (IAF-VAE, K = 1000)"}


def dequantization_table(record: dict[str, Any]):
    """(caption, DataFrame indexed by model): test bound, importance-weighted bound and train bound in
    bits/dim, mean ± std over seeds, beside the papers' CIFAR-10 numbers."""
    import pandas as pd

    from .experiments import mean_std

    s, runs = record["settings"], pd.DataFrame(record["rows"])
    g = runs.groupby("model", sort=False)
    fmt = lambda v: mean_std(v, 3)   # noqa: E731
    table = pd.DataFrame({"test bound": g.test_bound_bpd.apply(fmt), "test IW bound": g.test_iw_bpd.apply(fmt),
                          "train bound": g.train_bound_bpd.apply(fmt), "best epoch": g.best_epoch.apply(mean_std, digits=0),
                          "parameters": g.parameters.first(), "paper (CIFAR-10)": pd.Series(PAPER)}).loc[list(s["models"])]
    table.index.name = "model"
    caption = (f"Bits per dimension (lower is better), mean ± std over {len(s['seeds'])} seed(s). Ours: 17-level "
               f"8x8 digits (64 dimensions), test split; flows of {s['flow_layers']} affine couplings with uniform or "
               f"variational dequantization ({s['deq_layers']} conditional couplings), a discretized-logistic VAE "
               f"(z_dim {s['vae_z_dim']}); bound over {s['bound_K']} draws, IW bound over {s['iw_K']}; at most "
               f"{s['epochs']} epochs, best validation bound kept. Papers: CIFAR-10 (3072 dimensions, 256 levels), "
               "Ho et al. (2019) Tables 1-2 and Kingma et al. (2016).")
    return caption, table


EXPERIMENT = {"settings": DequantizationSettings(), "quick": QUICK_SETTINGS, "tasks": tasks, "run": run_task,
              "table": dequantization_table, "chapter": "book/06_dequantization",
              "title": "Uniform vs variational dequantization, and a discretized-logistic VAE (Ho et al., 2019)"}
