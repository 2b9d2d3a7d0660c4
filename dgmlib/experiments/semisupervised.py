"""The semi-supervised chapter's table (Kingma, Rezende, Mohamed & Welling, 2014, Table 1): test
accuracy of M2 against the number of labels, beside the same classifier network trained on the
labelled points alone with as many optimizer steps as M2.

M2 is trained on the paper's objective divided by the number N of training images (the labelled
bound weighted N_l / N, the cross-entropy by alpha = the paper's alpha / N, 0.1 there), for each
alpha of a small sweep."""
from __future__ import annotations

import dataclasses
import time
from typing import Any

from .base import DATA_NAMES, Experiment, Record, Row, Settings, mean_std


@dataclasses.dataclass(frozen=True)
class SemiSupervisedSettings(Settings):
    """M2 with ``per_class`` labels of every class (all training images unlabelled besides), and the
    baseline classifier on those labels alone. 10 and 100 labels per class are the paper's 100 and
    1000 labels on MNIST's ten classes (1 and 60 per class, in the earlier table, were dropped to
    pay for the sweep over alpha)."""
    per_class: tuple[int, ...] = (10, 100)
    z_dim: int = 8
    hidden: tuple[int, ...] = (256,)
    alphas: tuple[float, ...] = (0.1, 1.0, 10.0)   # the first is the paper's (alpha = 0.1 N)
    weighting: str = "paper"                        # dgmlib.semi_supervised.fit_semi_supervised
    epochs: int = 200                               # M2; the baseline gets as many optimizer steps
    dataset: str = "digits"


QUICK = SemiSupervisedSettings(seeds=(0,), per_class=(1, 10), z_dim=2, hidden=(32,), alphas=(0.1, 1.0), epochs=2)

#: Kingma et al. (2014), Table 1, MNIST test error (%): labels in all -> (NN baseline, M2, M2's std).
PAPER = {100: (25.80, 11.97, 1.71), 600: (11.44, 4.94, 0.13), 1000: (10.70, 3.60, 0.56), 3000: (6.04, 3.92, 0.63)}


def tasks(s: SemiSupervisedSettings) -> list[tuple]:
    """(settings, labels per class, alpha, seed) per M2 model; the task with the first alpha also
    trains the baseline on the same labels."""
    return [(s, n, alpha, seed) for seed in s.seeds for n in s.per_class for alpha in s.alphas]


def run_task(s: SemiSupervisedSettings, per_class: int, alpha: float, seed: int, device: str) -> Row:
    """Train M2 with ``alpha`` on ``per_class`` labels per class (drawn by ``seed``) and, for the first
    alpha, the baseline classifier on the same labels with M2's number of optimizer steps; measure
    the test accuracies and M2's test bound U(x)."""
    import math

    import torch

    from .. import load, seed_everything
    from ..models import SemiSupervisedVAE
    from ..semi_supervised import accuracy, fit_classifier, fit_semi_supervised, labelled_subset

    data = load(s.dataset, device=device)
    n_classes = int(data.train_labels.max()) + 1
    idx = labelled_subset(data.train_labels, per_class, seed)
    x_l, y_l = data.train[idx], data.train_labels[idx]
    seed_everything(seed)
    model = SemiSupervisedVAE(data.dim, n_classes, z_dim=s.z_dim, hidden=s.hidden).to(device)
    start = time.perf_counter()
    losses = fit_semi_supervised(model, x_l, y_l, data.train, s.epochs, alpha, batch_size=s.batch_size,
                                 lr=s.lr, seed=seed, weighting=s.weighting)
    seconds = time.perf_counter() - start
    m2_steps = s.epochs * math.ceil(len(data.train) / s.batch_size)
    row = {"per_class": per_class, "labels": per_class * n_classes, "alpha": alpha, "seed": seed,
           "m2_steps": m2_steps}
    seed_everything(10_000 + seed)
    with torch.no_grad():
        row["m2_accuracy"] = 100 * accuracy(model.predict(data.test), data.test_labels)
        row["m2_test_bound"] = model.unlabelled_elbo(data.test, K=10).mean().item()
    if alpha == s.alphas[0]:   # the baseline, once per set of labels: as many steps as M2
        epochs = math.ceil(m2_steps / math.ceil(len(x_l) / s.batch_size))
        classifier = fit_classifier(x_l, y_l, n_classes, hidden=s.hidden, epochs=epochs, lr=s.lr,
                                    batch_size=s.batch_size, seed=seed)
        with torch.no_grad():
            row["classifier_accuracy"] = 100 * accuracy(classifier(data.test).argmax(-1), data.test_labels)
        row["classifier_steps"] = epochs * math.ceil(len(x_l) / s.batch_size)
    return {**row, "final_loss": losses[-1], "train_seconds": round(seconds, 1)}


def table(record: Record) -> tuple[str, Any]:
    """(caption, DataFrame indexed by the number of labels): test accuracy of M2 and of the
    classifier on the labels alone, and the papers' MNIST accuracies where they ran that many."""
    import pandas as pd
    s, runs = record["settings"], pd.DataFrame(record["rows"])
    rows, main = [], s["alphas"][0]
    for n in s["per_class"]:
        r = runs[runs.per_class == n]
        labels = int(r.labels.iloc[0])
        paper = PAPER.get(labels)
        m2 = {a: r[r.alpha == a].set_index("seed").m2_accuracy for a in s["alphas"]}
        base = r[r.alpha == main].set_index("seed").classifier_accuracy
        rows.append({"labels (per class)": f"{labels} ({n})",
                     **{f"M2 α={a:g} %": mean_std(m2[a], 1) for a in s["alphas"]},
                     "labels only %": mean_std(base, 1),
                     f"M2 gain, α={main:g} (points)": mean_std(m2[main] - base, 1),
                     "paper M2 %": f"{100 - paper[1]:.2f} ± {paper[2]:.2f}" if paper else "–",
                     "paper labels only %": f"{100 - paper[0]:.2f}" if paper else "–"})
    caption = (f"Test accuracy (%) against the number of labels, mean ± std over {len(s['seeds'])} seed(s) "
               "(each seed draws its own labelled points); M2 sees every training image, the baseline "
               "(the same classifier network, cross-entropy) only the labelled ones, with as many optimizer "
               f"steps as M2 ({s['epochs']} epochs of M2). α: the weight of the cross-entropy in the paper's "
               "objective divided by the number N of training images (the paper's α = 0.1 N is α = 0.1 here), "
               "the labelled bound weighted N_l / N. Ours: "
               f"{DATA_NAMES.get(s.get('dataset'), s.get('dataset'))}, test split. Paper: Kingma et al. (2014), "
               "Table 1, MNIST, 100 minus the reported error (the baseline is their 'NN').")
    return caption, pd.DataFrame(rows).set_index("labels (per class)")


EXPERIMENT = Experiment(name="semisupervised", title="Semi-supervised M2 (Kingma et al., 2014)",
                        chapter="book/12_conditional_vaes", settings=SemiSupervisedSettings(), quick=QUICK,
                        tasks=tasks, run=run_task, table=table)
