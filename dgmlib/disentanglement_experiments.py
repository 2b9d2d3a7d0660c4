"""The disentanglement chapter's table: a beta-VAE sweep and DIP-VAE on the tiny shapes data.

    python -m dgmlib.experiments disentanglement            # full settings -> results/disentanglement.json
    python -m dgmlib.experiments disentanglement --quick    # tiny settings, same code path

Each task trains one model (a beta or a DIP-VAE setting, one seed) and measures on the shapes
data: rate (average KL, nats), distortion (-E log p(x|z), nats), their ELBO-surgery split of the
rate, the mutual information gap against the known factors, and active units.
"""
from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any

import torch

from .config import seed_everything


@dataclasses.dataclass(frozen=True)
class DisentanglementSettings:
    """Higgins et al. (2017) beta sweep and Kumar et al. (2018) DIP-VAE, on 16x16 shapes."""
    seeds: tuple[int, ...] = (0, 1, 2)
    betas: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    #: DIP-VAE settings (kind, lambda_od); lambda_d = 10 lambda_od for "i", lambda_od for "ii"
    dips: tuple[tuple[str, float], ...] = (("i", 10.0), ("ii", 10.0))
    z_dim: int = 10
    hidden: tuple[int, ...] = (256, 256)
    activation: str = "relu"
    epochs: int = 100
    batch_size: int = 100
    lr: float = 1e-3
    n_train: int = 3000
    n_val: int = 500
    n_test: int = 500
    data_seed: int = 0
    surgery_samples: int = 5
    mig_bins: int = 20


DISENTANGLEMENT_QUICK = DisentanglementSettings(
    seeds=(0,), betas=(1.0, 8.0), dips=(("i", 10.0),), z_dim=4, hidden=(32,), epochs=2,
    n_train=400, n_val=100, n_test=100, surgery_samples=1)


def objective_for(model_kind: str, value: float):
    """The training objective of a row: ``beta_elbo`` at ``beta=value`` for "beta", or
    ``dip_vae`` of kind "i"/"ii" at ``lambda_od=value``."""
    from .disentanglement import dip_vae
    from .objectives import beta_elbo

    if model_kind == "beta":
        return functools.partial(beta_elbo, beta=float(value))
    if model_kind in ("i", "ii"):
        return functools.partial(dip_vae, lambda_od=float(value), kind=model_kind)
    raise ValueError(f"unknown model kind {model_kind!r}; choose 'beta', 'i' or 'ii'")


def train_model(s: DisentanglementSettings, model_kind: str, value: float, seed: int, device: str = "cpu"):
    """(shapes data, trained model, history, seconds) for one setting and seed."""
    from .builders import build_vae
    from .shapes import load_shapes
    from .train import fit

    shapes = load_shapes(s.n_train, s.n_val, s.n_test, seed=s.data_seed, device=device)
    seed_everything(seed)
    model = build_vae(shapes.data.dim, s.z_dim, hidden=s.hidden, activation=s.activation).to(device)
    start = time.perf_counter()
    history = fit(model, shapes.data, epochs=s.epochs, objective=objective_for(model_kind, value),
                  lr=s.lr, batch_size=s.batch_size, seed=seed, val_every=max(1, s.epochs // 5),
                  progress=False)
    return shapes, model, history, time.perf_counter() - start


def measure(model, shapes, s: DisentanglementSettings, seed: int) -> dict[str, Any]:
    """Rate, distortion, ELBO surgery (training split) and MIG, active units, covariance of the
    means (test split for the ELBO terms and active units, training split for MIG)."""
    from .disentanglement import covariance, dip_terms, encode_means, mutual_info_gap
    from .metrics import active_units, elbo_surgery

    seed_everything(10_000 + seed)
    train, test = shapes.data.train, shapes.data.test
    surgery = elbo_surgery(model, train, samples=s.surgery_samples)
    test_surgery = elbo_surgery(model, test, samples=s.surgery_samples)
    mig = mutual_info_gap(encode_means(model, train), shapes.train_factors, bins=s.mig_bins)
    means = encode_means(model, test)
    penalty = dip_terms(covariance(means))
    return {"rate": test_surgery.avg_kl, "distortion": -test_surgery.reconstruction,
            "test_elbo": test_surgery.elbo, "train_rate": surgery.avg_kl,
            "mutual_info": surgery.mutual_info, "marginal_kl": surgery.marginal_kl, "log_n": surgery.log_n,
            "mig": mig.mig, **{f"gap_{n}": float(g) for n, g in zip(shapes.factor_names, mig.gaps)},
            "active_units": active_units(model, test).count,
            "cov_off_diagonal": float(penalty.off_diagonal), "cov_diagonal": float(penalty.diagonal)}


def _task(s: DisentanglementSettings, model_kind: str, value: float, seed: int, device: str) -> dict[str, Any]:
    shapes, model, history, seconds = train_model(s, model_kind, value, seed, device)
    label = f"beta={value:g}" if model_kind == "beta" else f"DIP-{model_kind.upper()} lod={value:g}"
    return {"model": label, "kind": model_kind, "value": value, "seed": seed,
            **measure(model, shapes, s, seed), "final_val_objective": history.val[-1],
            "train_seconds": round(seconds, 1)}


def _tasks(s: DisentanglementSettings) -> list[tuple]:
    settings = [("beta", b) for b in s.betas] + [(k, lam) for k, lam in s.dips]
    return [(s, kind, value, seed) for seed in s.seeds for kind, value in settings]


def row_order(settings: dict[str, Any]) -> list[str]:
    """The model labels of a result record's rows in table order: the betas, then the DIP settings."""
    return ([f"beta={b:g}" for b in settings["betas"]]
            + [f"DIP-{k.upper()} lod={v:g}" for k, v in settings["dips"]])


def disentanglement_table(record: dict[str, Any]):
    """(caption, DataFrame indexed by model): rate, distortion, ELBO, the surgery split of the rate,
    MIG and active units, mean ± std over seeds."""
    import pandas as pd
    from .experiments import mean_std

    s, runs = record["settings"], pd.DataFrame(record["rows"])
    stats = runs.groupby("model", sort=False)
    columns = {"rate": "rate", "distortion": "distortion", "test_elbo": "ELBO", "mutual_info": "MI",
               "marginal_kl": "marginal KL", "mig": "MIG", "active_units": "active units"}
    table = pd.DataFrame({label: stats[key].apply(lambda v, k=key: mean_std(v, 1 if k == "active_units" else 3
                                                                                 if k == "mig" else 2))
                          for key, label in columns.items()}).loc[row_order(s)]
    table.index.name = "model"
    caption = (f"Mean ± std over {len(s['seeds'])} seed(s). Tiny shapes (16x16 binary, {s['n_train']} training "
               f"images, factors shape / scale / x / y), z = {s['z_dim']}, MLP {tuple(s['hidden'])}, "
               f"{s['epochs']} epochs. Rate (average KL), distortion (-E log p(x|z)) and ELBO: nats per image, "
               "test split; MI (index-code mutual information) and marginal KL: ELBO surgery on the training "
               f"split; MIG: mutual information gap of the posterior means ({s['mig_bins']} bins) against the four "
               "factors, training split; active units: test split. DIP rows: lambda_d = 10 lambda_od (I), "
               "lambda_od (II). No paper column: Higgins et al. (2017) and Chen et al. (2018) report on dSprites "
               "(64x64, 737,280 images) with other estimators, not comparable numbers.")
    return caption, table


EXPERIMENT = {"settings": DisentanglementSettings(), "quick": DISENTANGLEMENT_QUICK, "tasks": _tasks,
              "run": _task, "table": disentanglement_table, "chapter": "book/09_disentanglement",
              "title": "Disentanglement: beta-VAE sweep and DIP-VAE on tiny shapes (Higgins et al., 2017; "
                       "Kumar et al., 2018)"}
