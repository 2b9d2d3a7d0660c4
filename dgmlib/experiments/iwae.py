"""The IWAE chapter's table (Burda et al., 2016, Table 1) on binarized 8x8 digits: VAEs and IWAEs
trained with k samples, their test log-likelihood (importance sampled) and active units."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any

from .base import (DATA_NAMES, Experiment, Record, Row, Settings, convergence, keep_model, likelihoods, load_data,
                   mean_std, train_vae)


@dataclasses.dataclass(frozen=True)
class IWAESettings(Settings):
    """Burda et al. (2016), Table 1, on binarized digits: VAE and IWAE trained with k samples."""
    ks: tuple[int, ...] = (1, 5, 50)
    z_dim: int = 20
    hidden: tuple[int, ...] = (100, 100)
    activation: str = "tanh"
    epochs: int = 500
    eval_K: int = 5000
    dataset: str = "digits"


QUICK = IWAESettings(seeds=(0,), ks=(1, 5), z_dim=8, hidden=(32,), epochs=3, eval_K=50)

#: MNIST-5k (784 pixels): the paper's architecture (784-200-200-50, tanh), trained for 50 epochs
#: (the paper: 3280) so that the 15 runs fit about an hour on one CPU core; k = 50 costs 8 s an
#: epoch on one core. Evaluated with K = 2000 (the paper: 5000).
MNIST5K = IWAESettings(z_dim=50, hidden=(200, 200), epochs=50, eval_K=2000, dataset="mnist5k")

#: MNIST-5k under the papers' protocol (issue 25): dynamically binarized training images, He
#: initialization of the tanh networks (PyTorch's default leaves them blind to the input at first),
#: early stopping on the validation objective (checked every 10 epochs, patience 50, at most 250
#: epochs; the best state kept), test -log p(x) at K = 1000 and 5000 and the training split's. The
#: cap keeps the table within the issue's 2 hours on 2 CPU cores: the five runs of a seed cost about
#: 18 s per epoch on one core (13 s of it the IWAE with k = 50, measured in the thresholded table), so
#: 3 seeds at 250 epochs take about 1.9 h; the k = 50 runs may not flatten by then (their curves are
#: recorded). The table's ``mnist5k`` variant since its result file was computed (commit b60bab5, 15
#: runs in 73 minutes on 2 CPU cores).
MNIST5K_NEXT = dataclasses.replace(MNIST5K, binarize="dynamic", init="he", epochs=250, patience=50,
                                   eval_Ks=(1000, 5000))

#: Burda et al. (2016), Table 1, MNIST, one stochastic layer: k -> (VAE NLL, IWAE NLL, VAE AU, IWAE AU).
PAPER = {1: (86.76, 86.76, 19, 19), 5: (86.47, 85.54, 20, 22), 50: (86.35, 84.78, 20, 25)}


def tasks(s: IWAESettings) -> list[tuple]:
    """(settings, objective, k, seed) per model; k = 1: the VAE and the IWAE objectives are the
    same function, so one run serves both rows."""
    return [(s, obj, k, seed) for seed in s.seeds for k in s.ks for obj in ("vae", "iwae")
            if not (obj == "iwae" and k == 1)]


def keep(task: tuple) -> str | None:
    """The kept trained models: seed 0 of the VAE and of the IWAE at the largest k."""
    s, objective, k, seed = task
    return f"{objective}-k{k}" if seed == min(s.seeds) and k == max(s.ks) else None


def run_task(s: IWAESettings, objective: str, k: int, seed: int, device: str, keep: str | None = None) -> Row:
    """Train one VAE (``objective="vae"``: the k-sample ELBO) or IWAE (the k-sample bound) and
    measure its test -log p(x), test ELBO and active units (with ``s.eval_Ks``: -log p(x) at each
    K, the training split's, and the convergence record). ``keep``: save the model there."""
    import torch

    from .. import active_units, elbo, iwae_bound, log_marginal_likelihood, seed_everything

    train_objective = functools.partial(elbo if objective == "vae" else iwae_bound, K=k)
    data = load_data(s, device)
    model, history, seconds = train_vae(s, data, seed, train_objective, device,
                                        val_every=10 if s.patience else max(1, s.epochs // 10))
    row = {"objective": objective, "k": k, "seed": seed}
    if s.eval_Ks is None:      # the record format of the threshold-binarized tables
        seed_everything(10_000 + seed)
        with torch.no_grad():
            ll = log_marginal_likelihood(model, data.test, K=s.eval_K)
            test_elbo = elbo(model, data.test, K=100).mean().item()
        row.update(test_nll=-ll.mean().item(), test_elbo=test_elbo, final_val_objective=history.val[-1])
    else:
        row.update(likelihoods(model, data, s, seed), **convergence(history))
        row["test_elbo"] = -row["test_neg_elbo"]
    row.update(active_units=active_units(model, data.test).count, train_seconds=round(seconds, 1))
    if keep is not None:
        row["kept"] = keep_model(model, data, keep, history)
    return row


def table(record: Record) -> tuple[str, Any]:
    """(caption, DataFrame indexed by k): test NLL, active units and test ELBO of the VAE and the IWAE."""
    import pandas as pd
    s, runs = record["settings"], pd.DataFrame(record["rows"])

    def of(objective, k):   # k = 1: one run serves both objectives
        return runs[(runs.objective == ("vae" if k == 1 else objective)) & (runs.k == k)]
    rows = []
    for k in s["ks"]:
        vae, iwae = of("vae", k), of("iwae", k)
        paper = PAPER.get(k, ("–",) * 4)
        rows.append({"k": k, "VAE NLL": mean_std(vae.test_nll), "IWAE NLL": mean_std(iwae.test_nll),
                     "VAE AU": mean_std(vae.active_units, 1), "IWAE AU": mean_std(iwae.active_units, 1),
                     "paper VAE NLL": paper[0], "paper IWAE NLL": paper[1],
                     "paper VAE AU": paper[2], "paper IWAE AU": paper[3]})
        if "test_elbo" in runs:   # the Gaussian encoder's own bound: it falls as the IWAE's k grows
            rows[-1].update({"VAE test ELBO": mean_std(vae.test_elbo), "IWAE test ELBO": mean_std(iwae.test_elbo)})
        if "train_nll" in runs:   # the papers' protocol: the training split beside the test split
            rows[-1].update({"VAE train NLL": mean_std(vae.train_nll), "IWAE train NLL": mean_std(iwae.train_nll)})
    estimate = f", NLL with {s['eval_K']} importance samples" if s.get("eval_K") else ""
    if s.get("eval_Ks"):
        Ks = sorted(s["eval_Ks"])
        estimate = (f", NLL with {Ks[-1]} importance samples (train NLL: as many training images), dynamically "
                    f"binarized training images, early stopping on the validation bound (patience {s['patience']}, "
                    f"at most {s['epochs']} epochs)")
    caption = (f"Test NLL (nats per image, lower is better) and active units (of {s['z_dim']}; paper: of 50), "
               f"test ELBO (nats per image, K = 100; not reported in the paper), "
               f"mean ± std over {len(s['seeds'])} seed(s). Ours: {DATA_NAMES.get(s.get('dataset'), s.get('dataset'))}, test split"
               f"{estimate}. "
               "Paper: Burda et al. (2016), Table 1, MNIST (784 pixels), one stochastic layer.")
    frame = pd.DataFrame(rows).set_index("k")
    return caption, frame[[c for c in frame if not c.startswith("paper")] + [c for c in frame if c.startswith("paper")]]


EXPERIMENT = Experiment(name="iwae", title="IWAE vs VAE (Burda et al., 2016)", chapter="book/03_iwae",
                        settings=IWAESettings(), quick=QUICK, tasks=tasks, run=run_task, table=table, keep=keep,
                        upcoming={"mnist5k": MNIST5K_NEXT, "mnist": dataclasses.replace(MNIST5K_NEXT, dataset="mnist")},
                        variants={"mnist5k": MNIST5K_NEXT, "mnist": dataclasses.replace(MNIST5K_NEXT, dataset="mnist")})
