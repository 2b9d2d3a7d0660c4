"""The flows chapter's table (van den Berg et al., 2018, Table 1) on binarized 8x8 digits: VAEs
with a diagonal Gaussian and with seven flow posteriors, their -ELBO and test -log p(x)."""
from __future__ import annotations

import dataclasses
from typing import Any

from .base import (DATA_NAMES, Experiment, Record, Row, Settings, convergence, keep_model, likelihoods, load_data,
                   parameters, summarize, train_vae)


@dataclasses.dataclass(frozen=True)
class FlowsSettings(Settings):
    """van den Berg et al. (2018), Table 1, on binarized digits: VAEs with flow posteriors."""
    posteriors: tuple[str, ...] = ("gaussian", "planar", "radial", "householder", "sylvester_orthogonal",
                                   "sylvester_householder", "sylvester_triangular", "iaf")
    z_dim: int = 8
    flow_length: int = 8
    hidden: tuple[int, ...] = (100, 100)
    activation: str = "tanh"
    epochs: int = 500
    eval_K: int = 5000
    elbo_K: int = 100
    dataset: str = "digits"


QUICK = FlowsSettings(seeds=(0,), posteriors=("gaussian", "planar", "sylvester_orthogonal"),
                      z_dim=4, flow_length=2, hidden=(32,), epochs=3, eval_K=50, elbo_K=10)

#: van den Berg et al. (2018), Table 1, statically binarized MNIST: posterior -> (-ELBO, NLL), mean ± std.
PAPER = {"gaussian": ("86.55 ± 0.06", "82.14 ± 0.07"), "planar": ("86.06 ± 0.31", "81.91 ± 0.22"),
         "iaf": ("84.20 ± 0.17", "80.79 ± 0.12"), "sylvester_orthogonal": ("83.32 ± 0.06", "80.22 ± 0.03"),
         "sylvester_householder": ("83.40 ± 0.01", "80.29 ± 0.02"),
         "sylvester_triangular": ("83.40 ± 0.10", "80.28 ± 0.06")}


#: MNIST-5k (784 pixels): z_dim 32 (the paper: 64), 784-200-200 tanh MLPs (the paper: gated
#: convolutions), flow length 8 (the paper: 4 to 16), 50 epochs (the paper: early stopping within
#: 2000), so the 24 runs fit about an hour on 2 CPU cores.
MNIST5K = FlowsSettings(z_dim=32, hidden=(200, 200), epochs=50, eval_K=2000, dataset="mnist5k")


#: MNIST-5k under the papers' protocol (issue 25): dynamically binarized training images, early
#: stopping on the validation ELBO (every 10 epochs, patience 50, at most 200 epochs), -log p(x) at
#: K = 500 and 2500, train beside test. Sized for the issue's 2 hours on 2 CPU cores: the eight
#: posteriors of a seed cost about 18 s per epoch on one core (the Sylvester flows 16 s of it,
#: measured in the thresholded table), so 200 epochs take at most about 1.5 h; log p(x) costs about
#: 0.04 s per 1000 samples of one image, so K = 1000 and 5000 on both splits would add about 50
#: minutes, K = 500 and 2500 half that.
#: The networks keep PyTorch's default initialization, as in the thresholded table. With He
#: initialization of the tanh networks (what the IWAE and hierarchical tables use) the Sylvester
#: flows diverged in seed 0 of a first run of this table (commit d82e4ff): the orthogonal and
#: Householder ones within 10 epochs (training ELBO below -4700 nats per image), the triangular one at
#: epoch 130; on the same seed the orthogonal flow with the default initialization trains stably over
#: the 12 epochs of a probe (-487 to -187 nats), where the He-initialized one fell from -312 at epoch 3
#: to -29918 at epoch 12.
#: The table's ``mnist5k`` variant since its result file was computed (commit a23db25).
MNIST5K_NEXT = dataclasses.replace(MNIST5K, binarize="dynamic", epochs=200, patience=50, eval_Ks=(500, 2500))


#: The posteriors whose seed-0 models are kept: the Gaussian, the planar flow and IAF (0.8, 1.0 and
#: 2.3 MB in float16 at z = 32). The Sylvester flows amortize 3.9 to 5.5 million parameters (7.7 to
#: 11 MB in float16) and do not fit beside the other tables' kept models in the 25 MB of issue 25.
KEPT = ("gaussian", "planar", "iaf")


def keep(task: tuple) -> str | None:
    """The kept trained models: seed 0 of the posteriors in :data:`KEPT`."""
    s, posterior, seed = task
    return posterior if seed == min(s.seeds) and posterior in KEPT else None


def tasks(s: FlowsSettings) -> list[tuple]:
    """(settings, posterior, seed) per model."""
    return [(s, posterior, seed) for seed in s.seeds for posterior in s.posteriors]


def run_task(s: FlowsSettings, posterior: str, seed: int, device: str, keep: str | None = None) -> Row:
    """Train one VAE with ``posterior`` ("gaussian" or a flow of ``s.flow_length`` steps) and
    measure its train and test -ELBO and its test -log p(x) (with ``s.eval_Ks``: at each K, the
    training split's too, and the convergence record)."""
    import torch

    from .. import elbo, log_marginal_likelihood, seed_everything

    flow = None if posterior == "gaussian" else posterior
    data = load_data(s, device)
    model, history, seconds = train_vae(s, data, seed, elbo, device, flow=flow, flow_length=s.flow_length,
                                        val_every=10 if s.patience else max(1, s.epochs // 10))
    if s.eval_Ks is not None:
        row = {"posterior": posterior, "seed": seed, **likelihoods(model, data, s, seed), **convergence(history),
               "parameters": parameters(model), "train_seconds": round(seconds, 1)}
        if keep is not None:
            row["kept"] = keep_model(model, data, keep, history)
        return row
    seed_everything(10_000 + seed)
    with torch.no_grad():
        train_elbo = elbo(model, data.train, K=s.elbo_K).mean().item()
        test_elbo = elbo(model, data.test, K=s.elbo_K).mean().item()
        ll = log_marginal_likelihood(model, data.test, K=s.eval_K).mean().item()
    return {"posterior": posterior, "seed": seed, "train_neg_elbo": -train_elbo,
            "test_neg_elbo": -test_elbo, "test_nll": -ll, "parameters": parameters(model),
            "train_seconds": round(seconds, 1)}


def table(record: Record) -> tuple[str, Any]:
    """(caption, DataFrame indexed by posterior): -ELBO and NLL of VAEs with flow posteriors; for a
    record under the papers' protocol (``eval_Ks`` set) also the test NLL at the smaller K, the
    training split's NLL and the best validation epoch."""
    import pandas as pd
    s, runs = record["settings"], pd.DataFrame(record["rows"])
    columns = {"train_neg_elbo": ("train -ELBO", 2), "test_neg_elbo": ("test -ELBO", 2), "test_nll": ("test NLL", 2)}
    estimate, epochs = f"NLL with {s['eval_K']} importance samples", f"{s['epochs']} epochs"
    if s.get("eval_Ks"):       # the papers' protocol: the K sweep and the training split beside the test split
        Ks = sorted(s["eval_Ks"])
        for K in Ks[:-1]:
            runs[f"nll_{K}"] = runs.test_nll_by_K.map(lambda v, K=K: v[str(K)])
        columns.update({f"nll_{K}": (f"test NLL, K = {K}", 2) for K in Ks[:-1]})
        columns.update({"train_nll": ("train NLL", 2), "best_epoch": ("best epoch", 0)})
        estimate = (f"NLL with {Ks[-1]} importance samples (beside it: K = {', '.join(map(str, Ks[:-1]))}; "
                    f"train NLL: as many training images at K = {Ks[-1]})")
        epochs = (f"dynamically binarized training images, early stopping on the validation ELBO "
                  f"(patience {s['patience']}, at most {s['epochs']} epochs)")
    frame = summarize(runs, "posterior", columns, s["posteriors"])
    frame["parameters"] = runs.groupby("posterior", sort=False).parameters.first()
    frame["paper -ELBO"] = [PAPER.get(p, ("", ""))[0] for p in frame.index]
    frame["paper NLL"] = [PAPER.get(p, ("", ""))[1] for p in frame.index]
    caption = (f"Nats per image (lower is better), mean ± std over {len(s['seeds'])} seed(s). Ours: "
               f"{DATA_NAMES.get(s.get('dataset'), s.get('dataset'))}, z_dim {s['z_dim']}, flow length "
               f"{s['flow_length']}, {epochs}, test {estimate}. "
               "Paper: van den Berg et al. (2018), Table 1, statically binarized MNIST (784 pixels); "
               "blank = not in that table.")
    frame.index.name = "posterior"
    return caption, frame


EXPERIMENT = Experiment(name="flows", title="Flow posteriors in VAEs (van den Berg et al., 2018)",
                        chapter="book/05_flows", settings=FlowsSettings(), quick=QUICK, tasks=tasks,
                        run=run_task, table=table, keep=keep,
                        variants={"mnist5k": MNIST5K_NEXT, "mnist": dataclasses.replace(MNIST5K_NEXT, dataset="mnist")},
                        upcoming={"mnist5k": MNIST5K_NEXT, "mnist": dataclasses.replace(MNIST5K_NEXT, dataset="mnist")})
