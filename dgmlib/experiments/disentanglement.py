"""The disentanglement chapter's table: a beta-VAE sweep and DIP-VAE on the tiny shapes data.

Each task trains one model (a beta or a DIP-VAE setting, one seed) and measures on the shapes
data: rate (average KL, nats), distortion (-E log p(x|z), nats), their ELBO-surgery split of the
rate, the mutual information gap against the known factors, and active units.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

from .base import Experiment, Record, Row, Settings, summarize, train_vae


@dataclasses.dataclass(frozen=True)
class DisentanglementSettings(Settings):
    """Higgins et al. (2017) beta sweep and Kumar et al. (2018) DIP-VAE, on 16x16 shapes."""
    betas: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
    #: DIP-VAE settings (kind, lambda_od); lambda_d = 10 lambda_od for "i", lambda_od for "ii"
    dips: tuple[tuple[str, float], ...] = (("i", 10.0), ("ii", 10.0))
    z_dim: int = 10
    hidden: tuple[int, ...] = (256, 256)
    activation: str = "relu"
    n_train: int = 3000
    n_val: int = 500
    n_test: int = 500
    data_seed: int = 0
    surgery_samples: int = 5
    mig_bins: int = 20


QUICK = DisentanglementSettings(seeds=(0,), betas=(1.0, 8.0), dips=(("i", 10.0),), z_dim=4, hidden=(32,),
                                epochs=2, n_train=400, n_val=100, n_test=100, surgery_samples=1)

#: No paper column: Higgins et al. (2017) and Chen et al. (2018) report on dSprites (64x64, 737,280
#: images) with other estimators (see the table's caption).
PAPER: dict[str, str] = {}


def objective_for(model_kind: str, value: float):
    """The training objective of a row: ``beta_elbo`` at ``beta=value`` for "beta", or
    ``dip_vae`` of kind "i"/"ii" at ``lambda_od=value``."""
    from .. import beta_elbo
    from ..disentanglement import dip_vae

    if model_kind == "beta":
        return functools.partial(beta_elbo, beta=float(value))
    if model_kind in ("i", "ii"):
        return functools.partial(dip_vae, lambda_od=float(value), kind=model_kind)
    raise ValueError(f"unknown model kind {model_kind!r}; choose 'beta', 'i' or 'ii'")


def train_model(s: DisentanglementSettings, model_kind: str, value: float, seed: int, device: str = "cpu"):
    """(shapes data, trained model, history, seconds) for one setting and seed."""
    from .. import load_shapes

    shapes = load_shapes(s.n_train, s.n_val, s.n_test, seed=s.data_seed, device=device)
    model, history, seconds = train_vae(s, shapes.data, seed, objective_for(model_kind, value), device,
                                        val_every=max(1, s.epochs // 5))
    return shapes, model, history, seconds


def measure(model, shapes, s: DisentanglementSettings, seed: int) -> dict[str, Any]:
    """Rate, distortion, ELBO surgery (training split) and MIG, active units, covariance of the
    means (test split for the ELBO terms and active units, training split for MIG)."""
    from .. import active_units, elbo_surgery, seed_everything
    from ..disentanglement import covariance, dip_terms, encode_means, mutual_info_gap

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


def tasks(s: DisentanglementSettings) -> list[tuple]:
    """(settings, kind, value, seed) per model: the betas, then the DIP settings."""
    settings = [("beta", b) for b in s.betas] + [(k, lam) for k, lam in s.dips]
    return [(s, kind, value, seed) for seed in s.seeds for kind, value in settings]


def run_task(s: DisentanglementSettings, model_kind: str, value: float, seed: int, device: str) -> Row:
    """Train and :func:`measure` one model (one row of the table)."""
    shapes, model, history, seconds = train_model(s, model_kind, value, seed, device)
    label = f"beta={value:g}" if model_kind == "beta" else f"DIP-{model_kind.upper()} lod={value:g}"
    return {"model": label, "kind": model_kind, "value": value, "seed": seed,
            **measure(model, shapes, s, seed), "final_val_objective": history.val[-1],
            "train_seconds": round(seconds, 1)}


def row_order(settings: dict[str, Any]) -> list[str]:
    """The model labels of a result record's rows in table order: the betas, then the DIP settings."""
    return ([f"beta={b:g}" for b in settings["betas"]]
            + [f"DIP-{k.upper()} lod={v:g}" for k, v in settings["dips"]])


def table(record: Record) -> tuple[str, Any]:
    """(caption, DataFrame indexed by model): rate, distortion, ELBO, the surgery split of the rate,
    MIG and active units, mean ± std over seeds."""
    import pandas as pd

    s, runs = record["settings"], pd.DataFrame(record["rows"])
    frame = summarize(runs, "model", {"rate": ("rate", 2), "distortion": ("distortion", 2), "test_elbo": ("ELBO", 2),
                                      "mutual_info": ("MI", 2), "marginal_kl": ("marginal KL", 2),
                                      "mig": ("MIG", 3), "active_units": ("active units", 1)}, row_order(s))
    frame.index.name = "model"
    caption = (f"Mean ± std over {len(s['seeds'])} seed(s). Tiny shapes (16x16 binary, {s['n_train']} training "
               f"images, factors shape / scale / x / y), z = {s['z_dim']}, MLP {tuple(s['hidden'])}, "
               f"{s['epochs']} epochs. Rate (average KL), distortion (-E log p(x|z)) and ELBO: nats per image, "
               "test split; MI (index-code mutual information) and marginal KL: ELBO surgery on the training "
               f"split; MIG: mutual information gap of the posterior means ({s['mig_bins']} bins) against the four "
               "factors, training split; active units: test split. DIP rows: lambda_d = 10 lambda_od (I), "
               "lambda_od (II). No paper column: Higgins et al. (2017) and Chen et al. (2018) report on dSprites "
               "(64x64, 737,280 images) with other estimators, not comparable numbers.")
    return caption, frame


EXPERIMENT = Experiment(name="disentanglement", chapter="book/09_disentanglement",
                        title="Disentanglement: beta-VAE sweep and DIP-VAE on tiny shapes (Higgins et al., 2017; "
                              "Kumar et al., 2018)",
                        settings=DisentanglementSettings(), quick=QUICK, tasks=tasks, run=run_task, table=table)
