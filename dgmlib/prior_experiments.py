"""The priors chapter's results table (Tomczak & Welling, 2018, Tables 2-3, on 8x8 digits):
one-level VAEs with a standard normal, mixture-of-Gaussians, VampPrior and flow prior, and the
two-level HVAE with a standard normal and a VampPrior on its top level, over several seeds.

    python -m dgmlib.experiments priors               # full settings -> dgmlib/results/priors.json
    python -m dgmlib.experiments priors --quick       # the same code path, tiny settings

Every model is trained with a KL warm-up (the ELBO with the KL term scaled by beta, raised in
steps of ``val_every / warmup`` at the start of every ``val_every``-epoch block until it reaches 1:
a coarse staircase version of the paper's linear warm-up) and keeps the state with the best
validation log-likelihood (importance sampled with ``val_K`` samples, every ``val_every`` epochs):
model selection on the validation split.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import time
from typing import Any

import torch

from .config import seed_everything

#: Model kinds: (levels, prior).
KINDS = {"standard": (1, "standard"), "mog": (1, "mog"), "vampprior": (1, "vampprior"), "flow": (1, "flow"),
         "hvae_standard": (2, "standard"), "hvae_vampprior": (2, "vampprior")}


@dataclasses.dataclass(frozen=True)
class PriorSettings:
    """VAEs with several priors on binarized 8x8 digits (the paper: static MNIST)."""
    seeds: tuple[int, ...] = (0, 1, 2)
    kinds: tuple[str, ...] = tuple(KINDS)
    z_dim: int = 8                       # one level, and the HVAE's top level z2
    z1_dim: int = 8                      # the HVAE's bottom level
    hidden: tuple[int, ...] = (128, 128)
    activation: str = "relu"             # tanh VampPriors collapsed (0 active units) in a first run
    components: int = 50                 # K of the mixture and of the VampPrior
    epochs: int = 300
    warmup: int = 60                     # KL warm-up: beta = min(1, (block + 1) * val_every / warmup), a staircase
    val_every: int = 20
    val_K: int = 50
    batch_size: int = 100
    lr: float = 2e-3
    eval_K: int = 5000                   # test log p(x)
    train_eval_K: int = 5000             # log p(x) of the first 250 training images (over-fitting gap)
    kl_K: int = 100
    surgery_samples: int = 10
    dataset: str = "digits"


QUICK_SETTINGS = PriorSettings(seeds=(0,), z_dim=2, z1_dim=2, hidden=(32,), components=5, epochs=4, warmup=2, val_every=2,
                               val_K=5, eval_K=20, train_eval_K=10, kl_K=5, surgery_samples=2)


def build_model(kind: str, x_dim: int, s: PriorSettings) -> torch.nn.Module:
    """The model of ``kind`` (a key of :data:`KINDS`) with the settings' sizes."""
    from .models import HierarchicalVAE
    from .builders import build_vae

    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    levels, prior = KINDS[kind]
    if levels == 1:
        return build_vae(x_dim, s.z_dim, hidden=s.hidden, activation=s.activation, prior=prior,
                         prior_components=s.components)
    return HierarchicalVAE(x_dim, s.z1_dim, s.z_dim, hidden=s.hidden, activation=s.activation, prior=prior,
                           prior_components=s.components)


def train_best(model: torch.nn.Module, data, s: PriorSettings, seed: int) -> dict[str, Any]:
    """Train for ``s.epochs`` epochs (one Adam state throughout) with the warm-up ELBO, estimate the
    validation log-likelihood every ``s.val_every`` epochs and load the best state at the end."""
    from .metrics import log_marginal_likelihood
    from .objectives import beta_elbo
    from .train import fit

    optimizer = torch.optim.Adam(model.parameters(), lr=s.lr)
    best, best_epoch, best_state, curve, seconds = -float("inf"), 0, None, [], 0.0
    for block in range(s.epochs // s.val_every):
        beta = min(1.0, (block + 1) * s.val_every / s.warmup) if s.warmup > 0 else 1.0
        objective = functools.partial(beta_elbo, beta=beta, analytic_kl=False)   # Monte Carlo KL
        history = fit(model, data.train, epochs=s.val_every, objective=objective, optimizer=optimizer,
                      batch_size=s.batch_size, seed=1000 * seed + block, progress=False)
        seconds += sum(history.seconds)
        seed_everything(20_000 + block)
        val = log_marginal_likelihood(model, data.val, K=s.val_K).mean().item()
        epoch = (block + 1) * s.val_every
        curve.append([epoch, round(history.train[-1], 3), round(val, 3)])
        if val > best:
            best, best_epoch, best_state = val, epoch, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    model.eval()
    return {"best_epoch": best_epoch, "best_val_ll": best, "curve": curve, "train_seconds": round(seconds, 1)}


def _task(s: PriorSettings, kind: str, seed: int, device: str) -> dict[str, Any]:
    from .data import load
    from .metrics import active_units_per_level
    from .metrics import log_marginal_likelihood
    from .metrics import marginal_kl

    data = load(s.dataset, device=device)
    seed_everything(seed)
    model = build_model(kind, data.dim, s).to(device)
    record = train_best(model, data, s, seed)
    start = time.perf_counter()
    seed_everything(10_000 + seed)
    with torch.no_grad():
        test_ll = log_marginal_likelihood(model, data.test, K=s.eval_K).mean().item()
        train_ll = log_marginal_likelihood(model, data.train[:len(data.test)], K=s.train_eval_K).mean().item()
        terms = model.terms(data.test, K=s.kl_K)
        test_elbo = terms.log_w.mean().item()
        kl = (terms.log_qz - terms.log_pz).mean().item()
        mkl = marginal_kl(model, data.train, samples=s.surgery_samples)
    if KINDS[kind][0] == 1:
        from .metrics import active_units
        au = {"active_units": active_units(model, data.test).count, "active_units_z1": None}
    else:
        au1, au2 = active_units_per_level(model, data.test)
        au = {"active_units": au2, "active_units_z1": au1}
    row = {"kind": kind, "seed": seed, "test_nll": -test_ll, "train_nll": -train_ll,
           "test_neg_elbo": -test_elbo, "test_kl": kl, "marginal_kl": mkl, **au,
           "parameters": sum(p.numel() for p in model.parameters()), **record,
           "eval_seconds": round(time.perf_counter() - start, 1)}
    if kind == "vampprior" and seed == min(s.seeds):
        row["pseudo_inputs"] = [[round(v, 3) for v in u] for u in model.prior.pseudo_inputs.tolist()]
    return row


def _tasks(s: PriorSettings) -> list[tuple]:
    return [(s, kind, seed) for seed in s.seeds for kind in s.kinds]


#: Tomczak & Welling (2018), statically binarized MNIST, test log p(x): Table 3 (VAE and HVAE, standard
#: and VampPrior) and the comparison table (HVAE + mixture of Gaussians, shown beside our one-level MoG).
PAPER = {"standard": "88.56", "mog": "85.07 (HVAE + MoG)", "vampprior": "85.57", "hvae_standard": "86.05",
         "hvae_vampprior": "83.19"}


def priors_table(record: dict[str, Any]):
    """(caption, DataFrame indexed by model kind): test -log p(x), -ELBO, KL, marginal KL, active units,
    the test - train gap of -log p(x) and the selected epoch, mean ± std over seeds, beside the paper."""
    import pandas as pd
    from .experiments import mean_std

    s, runs = record["settings"], pd.DataFrame(record["rows"])
    runs["gap"] = runs.test_nll - runs.train_nll
    stats = runs.groupby("kind", sort=False)
    columns = {"test_nll": "-log p(x)", "test_neg_elbo": "-ELBO", "test_kl": "KL", "marginal_kl": "marginal KL",
               "active_units": "active units", "active_units_z1": "active z1", "gap": "test - train",
               "best_epoch": "best epoch"}
    table = pd.DataFrame({label: stats[key].apply(lambda v: mean_std(v.dropna(), 0 if key == "best_epoch" else 1 if "units" in key else 2)
                                                  if v.notna().any() else "")
                          for key, label in columns.items()}).loc[list(s["kinds"])]
    table["paper -log p(x)"] = [PAPER.get(k, "") for k in table.index]
    table.index.name = "model"
    caption = (f"Nats per image (lower is better, except active units), mean ± std over {len(s['seeds'])} seed(s). "
               f"Ours: binarized 8x8 digits (64 pixels), test split (marginal KL: training split), z = {s['z_dim']} "
               f"(HVAE: z1 = {s['z1_dim']}, z2 = {s['z_dim']}; active units of z2), K = {s['components']} components, "
               f"-log p(x) with {s['eval_K']} importance samples, best validation epoch of {s['epochs']}. Paper: "
               "Tomczak & Welling (2018), statically binarized MNIST (784 pixels), test -log p(x); blank = not reported.")
    return caption, table


EXPERIMENT = {"settings": PriorSettings(), "quick": QUICK_SETTINGS, "tasks": _tasks, "run": _task,
              "table": priors_table, "chapter": "book/07_priors",
              "title": "Priors: standard, MoG, VampPrior, flow; one and two levels (Tomczak & Welling, 2018)"}
