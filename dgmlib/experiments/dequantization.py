"""The dequantization chapter's table: flows on the 17-level digits with uniform and with
variational dequantization (Theis et al., 2016; Ho et al., 2019), and a VAE with a discretized
logistic likelihood (Kingma et al., 2016), all in bits per dimension on the same test split.

Every model is trained by maximizing its bound (the dequantization bound is an ELBO with the noise
as the latent variable) and keeps the weights of its best validation bound (checked every
``check_every`` epochs; training stops after ``patience`` epochs without improvement:
``fit(keep_best=True, patience=...)``): with ~1300 training images a flow overfits within a few
hundred epochs.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

from .base import Experiment, Record, Row, Settings, parameters, summarize, timed_fit


@dataclasses.dataclass(frozen=True)
class DequantizationSettings(Settings):
    """Flows (affine couplings) with uniform / variational dequantization vs a discretized-logistic VAE."""
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
    bound_K: int = 16
    iw_K: int = 1000
    dataset: str = "digits"


QUICK = DequantizationSettings(seeds=(0,), flow_layers=2, flow_hidden=(32,), deq_layers=1, deq_hidden=(16,),
                               vae_z_dim=4, vae_hidden=(32,), epochs=2, check_every=1, patience=2, bound_K=2,
                               iw_K=20)

#: MNIST-5k at its 256 grey levels (784 dimensions), sized for two CPU cores: couplings of 256
#: units, a deeper VAE (z = 32), at most 100 epochs (checked every 5, patience 25), IW bound over
#: 200 draws. A flow takes about 5 minutes on one core.
MNIST5K = DequantizationSettings(flow_hidden=(256,), deq_hidden=(128,), vae_z_dim=32, vae_hidden=(512, 256),
                                 epochs=100, check_every=5, patience=25, iw_K=200, dataset="mnist5k")

#: CIFAR-10 test bits/dim (8-bit, 3072 dimensions): Ho et al. (2019), Table 1 and the ablation of
#: Table 2 (uniform vs variational dequantization at the same training budget); Kingma et al. (2016).
PAPER = {"uniform": "3.292 (Flow++ ablation, uniform)",
         "variational": "3.165 (Flow++ ablation); 3.08 (full Flow++)",
         "vae": "3.15 (IAF-VAE, ELBO); 3.11 (IAF-VAE, K = 1000)"}


#: Full MNIST test bits/dim (784 dimensions, 256 levels, uniform dequantization): Grathwohl et al.
#: (2019), Table 2. No variational-dequantization or VAE number on MNIST in the papers we quote.
PAPER_MNIST = {"uniform": "1.06 (RealNVP); 1.05 (Glow)", "variational": "", "vae": ""}


def build_model(s: DequantizationSettings, name: str, dim: int, levels: int):
    """The model of row ``name``: "uniform" / "variational" (a dequantized flow) or "vae"."""
    from .. import build_dequantized_flow, build_vae

    if name == "vae":
        likelihood = "discretized_logistic" if levels == 17 else f"discretized_logistic_{levels}"
        return build_vae(dim, s.vae_z_dim, hidden=s.vae_hidden, likelihood=likelihood)
    return build_dequantized_flow(dim, levels, name, layers=s.flow_layers, hidden=s.flow_hidden,
                                  deq_layers=s.deq_layers, deq_hidden=s.deq_hidden, alpha=s.alpha)


def tasks(s: DequantizationSettings) -> list[tuple]:
    """(settings, model name, seed) per model."""
    return [(s, name, seed) for seed in s.seeds for name in s.models]


def run_task(s: DequantizationSettings, name: str, seed: int, device: str) -> Row:
    """Train model ``name`` on its bound (one noise / latent sample), keeping the state with the
    best validation bound, and measure its bounds in bits per dimension."""
    import torch

    from .. import bits_per_dim, elbo, load, log_marginal_likelihood, seed_everything

    data = load(s.dataset, binarize=False, device=device)
    seed_everything(seed)
    model = build_model(s, name, data.dim, data.levels).to(device)
    history, seconds = timed_fit(model, data, s, seed, elbo, val_every=s.check_every, keep_best=True,
                                 patience=s.patience)
    bpd = functools.partial(bits_per_dim, dim=data.dim)
    seed_everything(10_000 + seed)
    with torch.no_grad():
        test_bound = elbo(model, data.test, K=s.bound_K).mean().item()
        train_bound = elbo(model, data.train, K=s.bound_K).mean().item()
        test_iw = log_marginal_likelihood(model, data.test, K=s.iw_K).mean().item()
    return {"model": name, "seed": seed, "test_bound_bpd": bpd(-test_bound), "test_iw_bpd": bpd(-test_iw),
            "train_bound_bpd": bpd(-train_bound), "val_bound_bpd": bpd(-history.best_val),
            "test_bound_nats": test_bound, "best_epoch": history.best_epoch, "epochs_run": len(history),
            "parameters": parameters(model), "train_seconds": round(seconds, 1)}


def table(record: Record) -> tuple[str, Any]:
    """(caption, DataFrame indexed by model): test bound, importance-weighted bound and train bound in
    bits/dim, mean ± std over seeds, beside the papers' CIFAR-10 numbers."""
    import pandas as pd

    s, runs = record["settings"], pd.DataFrame(record["rows"])
    frame = summarize(runs, "model", {"test_bound_bpd": ("test bound", 3), "test_iw_bpd": ("test IW bound", 3),
                                      "train_bound_bpd": ("train bound", 3), "best_epoch": ("best epoch", 0)},
                      s["models"])
    frame["parameters"] = runs.groupby("model", sort=False).parameters.first()
    data = s.get("dataset", "digits")
    mnist = data != "digits"
    paper = PAPER_MNIST if mnist else PAPER
    frame["paper (MNIST)" if mnist else "paper (CIFAR-10)"] = [paper.get(m, "") for m in frame.index]
    frame.index.name = "model"
    what = ({"digits": "17-level 8x8 digits (64 dimensions)",
             "mnist5k": "MNIST-5k at 256 grey levels (784 dimensions)",
             "mnist": "MNIST at 256 grey levels (784 dimensions)"}.get(data, data))
    papers = ("Papers: full MNIST (784 dimensions, 256 levels, uniform dequantization), Grathwohl et al. "
              "(2019), Table 2; none reports variational dequantization or a VAE on MNIST in bits/dim."
              if mnist else "Papers: CIFAR-10 (3072 dimensions, 256 levels), Ho et al. (2019) Tables 1-2 and "
              "Kingma et al. (2016).")
    caption = (f"Bits per dimension (lower is better), mean ± std over {len(s['seeds'])} seed(s). Ours: {what}, "
               f"test split; flows of {s['flow_layers']} affine couplings ({s['flow_hidden'][0]} units) with uniform or "
               f"variational dequantization ({s['deq_layers']} conditional couplings), a discretized-logistic VAE "
               f"(z_dim {s['vae_z_dim']}); bound over {s['bound_K']} draws, IW bound over {s['iw_K']}; at most "
               f"{s['epochs']} epochs, best validation bound kept. {papers}")
    return caption, frame


EXPERIMENT = Experiment(name="dequantization", chapter="book/06_dequantization",
                        title="Uniform vs variational dequantization, and a discretized-logistic VAE (Ho et al., 2019)",
                        settings=DequantizationSettings(), quick=QUICK, tasks=tasks, run=run_task, table=table,
                        variants={"mnist5k": MNIST5K, "mnist": dataclasses.replace(MNIST5K, dataset="mnist")})
