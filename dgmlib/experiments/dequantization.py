"""The dequantization chapter's table: flows on the 17-level digits with uniform and with
variational dequantization (Theis et al., 2016; Ho et al., 2019), and a VAE with a discretized
logistic likelihood (Kingma et al., 2016), all in bits per dimension on the same test split.

Every model is trained by maximizing its bound (the dequantization bound is an ELBO with the noise
as the latent variable) and keeps the weights of its best validation bound (checked every
``check_every`` epochs; training stops after ``patience`` epochs without improvement:
``fit(keep_best=True, patience=...)``): with ~1300 training images a flow overfits within a few
hundred epochs.

On 28x28 images the flows that can model them are convolutional: :class:`ImageDequantizationSettings`
(``MNIST5K_IMAGES`` on two CPU cores, ``MNIST_IMAGES_GPU`` at the UvA tutorial's sizes) make the rows
"uniform" and "variational" multi-scale flows (:func:`~dgmlib.dequantization.build_dequantized_image_flow`:
RealNVP / Glow levels, the variational dequantizer of Flow++) and keep the dense flow of the first
MNIST-5k table as one row, "dense_uniform".
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, ClassVar

from .base import (Experiment, Record, Row, Settings, convergence, keep_model, load_data, parameters, summarize,
                   timed_fit)


@dataclasses.dataclass(frozen=True)
class DequantizationSettings(Settings):
    """Flows (affine couplings) with uniform / variational dequantization vs a discretized-logistic VAE."""
    #: the models see the grey levels, never binarized data (:func:`~dgmlib.experiments.base.load_data`)
    grey: ClassVar[bool] = True
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


@dataclasses.dataclass(frozen=True)
class ImageDequantizationSettings(DequantizationSettings):
    """The table on square grey images: the rows "uniform" and "variational" are multi-scale
    convolutional flows (``image_*``: scales, couplings and maps per scale, gated blocks per network,
    ActNorm, 1x1 convolutions, the variational dequantizer's couplings and maps, the logit margin), a
    row "dense_uniform" the dense flow (``flow_*``) with uniform dequantization. ``eval_batch`` images
    per evaluation pass bound the memory of the convolutional networks."""
    models: tuple[str, ...] = ("uniform", "variational", "dense_uniform", "vae")
    image_scales: int = 3
    image_couplings: tuple[int, ...] = (2, 2, 2)
    image_hidden: tuple[int, ...] = (16, 32, 32)
    image_blocks: int = 1
    image_actnorm: bool = True
    image_conv1x1: bool = True
    image_deq_couplings: int = 2
    image_deq_hidden: int = 16
    image_alpha: float = 1e-5
    eval_batch: int = 100
    #: larger numbers of draws for the test IW bound besides ``iw_K`` (row ``test_iw_bpd_K<k>``): does
    #: a larger K change the conclusion? None: ``iw_K`` only.
    iw_Ks: tuple[int, ...] | None = None


#: Quick settings of the image table: one coupling of 4 maps per scale, one epoch, few draws.
QUICK_IMAGES = ImageDequantizationSettings(**{
    **dataclasses.asdict(QUICK), "models": ImageDequantizationSettings.models, "image_couplings": (1, 1, 1),
    "image_hidden": (4, 4, 4), "image_deq_couplings": 1, "image_deq_hidden": 4, "epochs": 1, "bound_K": 1,
    "iw_K": 4, "dataset": "mnist5k"})

#: MNIST-5k at its 256 grey levels (784 dimensions), sized for two CPU cores: couplings of 256
#: units, a deeper VAE (z = 32), at most 100 epochs (checked every 5, patience 25), IW bound over
#: 200 draws. A flow takes about 5 minutes on one core.
MNIST5K = DequantizationSettings(flow_hidden=(256,), deq_hidden=(128,), vae_z_dim=32, vae_hidden=(512, 256),
                                 epochs=100, check_every=5, patience=25, iw_K=200, dataset="mnist5k")

#: MNIST-5k with the image flows, sized for two CPU cores (the 12 runs took 55 min with two workers):
#: 28x28 -> 14x14 -> 7x7, 2 couplings per scale with gated networks of 16/32/32 maps (one block), ActNorm
#: and 1x1 convolutions; variational dequantization by 2 conditional checkerboard couplings of 16 maps;
#: the dense flow and the VAE of ``MNIST5K``; at most 40 epochs, validated every 2 (patience 10); bounds
#: over 4 draws, IW bound over 32. The "mnist5k" variant (``MNIST5K``, the dense flows of the first
#: table, stays as its ``dense_uniform`` row).
MNIST5K_IMAGES = ImageDequantizationSettings(**{
    **dataclasses.asdict(MNIST5K), "models": ImageDequantizationSettings.models, "epochs": 40, "check_every": 2,
    "patience": 10, "bound_K": 4, "iw_K": 32})

#: The image table trained until its validation curves flatten, the next MNIST-5k variant (the
#: upcoming settings: ``make tables DATASET=mnist5k TABLES=dequantization UPCOMING=1``): as
#: ``MNIST5K_IMAGES`` but at most 120 epochs, stopping after 20 without a better validation bound, and
#: the test IW bound also over 128 draws (does K = 32 suffice?). At
#: 40 epochs every image flow of ``MNIST5K_IMAGES`` was still improving; measured there on 2 cores (two
#: workers), an epoch takes about 18 s (uniform) and 27 s (variational), so this table takes about 2.5 h.
MNIST5K_IMAGES_LONG = dataclasses.replace(MNIST5K_IMAGES, epochs=120, patience=20, iw_Ks=(128,))

#: Full MNIST with the image flows at the sizes of the UvA tutorial's multi-scale flow (Lippe, 2022:
#: 2 checkerboard couplings of 32 maps, a squeeze, 2 channel couplings of 48, a split, a squeeze, 4
#: channel couplings of 64; 3 gated blocks per network; variational dequantization by 4 couplings of
#: 16 maps): 200 epochs as there (validated every 5, patience 50), batch 128; the IW bound over 8 draws
#: is the tutorial's test bits/dim. For a GPU (``make tables DATASET=mnist DEVICE=cuda``); with
#: ``dataset="mnist5k"`` the same sizes on MNIST-5k.
MNIST_IMAGES_GPU = dataclasses.replace(MNIST5K_IMAGES, image_couplings=(2, 2, 4), image_hidden=(32, 48, 64),
                                       image_blocks=3, image_deq_couplings=4, image_deq_hidden=16, epochs=200,
                                       check_every=5, patience=50, batch_size=128, bound_K=8, iw_K=8,
                                       eval_batch=500, dataset="mnist")

#: CIFAR-10 test bits/dim (8-bit, 3072 dimensions): Ho et al. (2019), Table 1 and the ablation of
#: Table 2 (uniform vs variational dequantization at the same training budget); Kingma et al. (2016).
PAPER = {"uniform": "3.292 (Flow++ ablation, uniform)",
         "variational": "3.165 (Flow++ ablation); 3.08 (full Flow++)",
         "vae": "3.15 (IAF-VAE, ELBO); 3.11 (IAF-VAE, K = 1000)"}


#: Full MNIST test bits/dim (784 dimensions, 256 levels): Grathwohl et al. (2019), Table 2 (uniform
#: dequantization); the UvA deep-learning tutorial 11 on image flows (Lippe, 2022; test split, 8
#: importance samples): 8 checkerboard couplings with uniform dequantization 1.078, with variational
#: 1.043, its multi-scale flow (variational) 1.020. No VAE number on MNIST in the papers we quote.
PAPER_MNIST = {"uniform": "1.06 (RealNVP); 1.05 (Glow); 1.078 (UvA tutorial)",
               "variational": "1.043 (UvA tutorial); 1.020 (UvA, multi-scale)", "dense_uniform": "", "vae": ""}


def build_model(s: DequantizationSettings, name: str, dim: int, levels: int):
    """The model of row ``name``: "uniform" / "variational" (a dequantized flow: dense, or multi-scale
    with :class:`ImageDequantizationSettings`), "dense_uniform" / "dense_variational" (the dense flow)
    or "vae"."""
    import math

    from .. import build_dequantized_flow, build_dequantized_image_flow, build_vae

    if name == "vae":
        likelihood = "discretized_logistic" if levels == 17 else f"discretized_logistic_{levels}"
        return build_vae(dim, s.vae_z_dim, hidden=s.vae_hidden, likelihood=likelihood)
    kind = name.removeprefix("dense_")
    if name.startswith("dense_") or not isinstance(s, ImageDequantizationSettings):
        return build_dequantized_flow(dim, levels, kind, layers=s.flow_layers, hidden=s.flow_hidden,
                                      deq_layers=s.deq_layers, deq_hidden=s.deq_hidden, alpha=s.alpha)
    side = math.isqrt(dim)
    if side * side != dim:
        raise ValueError(f"the image flows model square grey images; got {dim} dimensions")
    return build_dequantized_image_flow((1, side, side), levels, kind, scales=s.image_scales,
                                        couplings=s.image_couplings, hidden=s.image_hidden, blocks=s.image_blocks,
                                        actnorm=s.image_actnorm, conv1x1=s.image_conv1x1,
                                        deq_couplings=s.image_deq_couplings, deq_hidden=s.image_deq_hidden,
                                        alpha=s.image_alpha)


def tasks(s: DequantizationSettings) -> list[tuple]:
    """(settings, model name, seed) per model."""
    return [(s, name, seed) for seed in s.seeds for name in s.models]


def keep(task: tuple) -> str | None:
    """The kept trained models: seed 0 of the image flows (uniform and variational), for the
    chapter's 28x28 samples; the dense flow and the VAE are not kept."""
    s, name, seed = task
    image = isinstance(s, ImageDequantizationSettings) and name in ("uniform", "variational")
    return name if image and seed == min(s.seeds) else None


def run_task(s: DequantizationSettings, name: str, seed: int, device: str, keep: str | None = None) -> Row:
    """Train model ``name`` on its bound (one noise / latent sample), keeping the state with the
    best validation bound, and measure its bounds in bits per dimension; with ``keep``, save the
    trained model there (:func:`~dgmlib.experiments.base.keep_model`)."""
    import torch

    from .. import bits_per_dim, elbo, evaluate, log_marginal_likelihood, seed_everything

    data = load_data(s, device)                             # the grey levels
    seed_everything(seed)
    model = build_model(s, name, data.dim, data.levels).to(device)
    history, seconds = timed_fit(model, data, s, seed, elbo, val_every=s.check_every, keep_best=True,
                                 patience=s.patience)
    bpd = functools.partial(bits_per_dim, dim=data.dim)
    seed_everything(10_000 + seed)
    batch = getattr(s, "eval_batch", None)
    with torch.no_grad():
        if batch is None:                                   # dense flows and VAEs: one pass per split
            test_bound = elbo(model, data.test, K=s.bound_K).mean().item()
            train_bound = elbo(model, data.train, K=s.bound_K).mean().item()
            test_iw = log_marginal_likelihood(model, data.test, K=s.iw_K).mean().item()
        else:                                               # passes of at most ``batch`` images
            bound = functools.partial(elbo, K=s.bound_K)
            test_bound = evaluate(model, data.test, bound, batch_size=max(1, batch // s.bound_K))
            train_bound = evaluate(model, data.train, bound, batch_size=max(1, batch // s.bound_K))
            iw = {}
            for k in sorted({s.iw_K, *(getattr(s, "iw_Ks", None) or ())}):
                chunk = min(k, batch)
                iw[k] = log_marginal_likelihood(model, data.test, K=k, chunk=chunk,
                                                batch_size=max(1, batch // chunk)).mean().item()
            test_iw = iw[s.iw_K]
    row = {"model": name, "seed": seed, "test_bound_bpd": bpd(-test_bound), "test_iw_bpd": bpd(-test_iw),
           "train_bound_bpd": bpd(-train_bound), "val_bound_bpd": bpd(-history.best_val),
           "test_bound_nats": test_bound, **convergence(history),
           "parameters": parameters(model), "train_seconds": round(seconds, 1)}
    if batch is not None and getattr(s, "iw_Ks", None):
        row |= {f"test_iw_bpd_K{k}": bpd(-value) for k, value in iw.items()}
    if keep is not None:
        row["kept"] = keep_model(model, data, keep, history, storage_dtype="float32")  # 0.6 MB; exact
    return row


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
    papers = ("Papers: full MNIST (784 dimensions, 256 levels), Grathwohl et al. (2019), Table 2 (uniform "
              "dequantization), and the UvA tutorial on image flows (Lippe, 2022; IW bound over 8 draws); none "
              "reports a VAE on MNIST in bits/dim."
              if mnist else "Papers: CIFAR-10 (3072 dimensions, 256 levels), Ho et al. (2019) Tables 1-2 and "
              "Kingma et al. (2016).")
    dense = f"{s['flow_layers']} affine couplings ({s['flow_hidden'][0]} units)"
    if "image_scales" in s:
        flows = (f"multi-scale convolutional flows ({s['image_scales']} scales, "
                 f"{'/'.join(map(str, s['image_couplings']))} couplings per scale with networks of "
                 f"{'/'.join(map(str, s['image_hidden']))} maps{', ActNorm' if s['image_actnorm'] else ''}"
                 f"{', 1x1 convolutions' if s['image_conv1x1'] else ''}) with uniform or variational "
                 f"dequantization ({s['image_deq_couplings']} conditional convolutional couplings), the dense flow "
                 f"of {dense} with uniform dequantization (dense_uniform)")
    else:
        flows = (f"flows of {dense} with uniform or variational dequantization ({s['deq_layers']} conditional "
                 "couplings)")
    caption = (f"Bits per dimension (lower is better), mean ± std over {len(s['seeds'])} seed(s). Ours: {what}, "
               f"test split; {flows}, a discretized-logistic VAE "
               f"(z_dim {s['vae_z_dim']}); bound over {s['bound_K']} draws, IW bound over {s['iw_K']}; at most "
               f"{s['epochs']} epochs, best validation bound kept. {papers}")
    return caption, frame


EXPERIMENT = Experiment(name="dequantization", chapter="book/06_dequantization",
                        title="Uniform vs variational dequantization, and a discretized-logistic VAE (Ho et al., 2019)",
                        settings=DequantizationSettings(), quick=QUICK, tasks=tasks, run=run_task, table=table, keep=keep,
                        variants={"mnist5k": MNIST5K_IMAGES, "mnist": MNIST_IMAGES_GPU},
                        quick_variants={"mnist5k": QUICK_IMAGES, "mnist": dataclasses.replace(QUICK_IMAGES, dataset="mnist")},
                        upcoming={"mnist5k": MNIST5K_IMAGES_LONG}, upcoming_quick={"mnist5k": QUICK_IMAGES})
