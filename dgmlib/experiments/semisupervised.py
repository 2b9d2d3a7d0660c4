"""The semi-supervised chapter's table (Kingma, Rezende, Mohamed & Welling, 2014, Table 1): test
accuracy of M2 against the number of labels, beside the same classifier network trained on the
labelled points alone."""
from __future__ import annotations

import dataclasses
import time
from typing import Any

from .base import DATA_NAMES, Experiment, Record, Row, Settings, mean_std


@dataclasses.dataclass(frozen=True)
class SemiSupervisedSettings(Settings):
    """M2 with ``per_class`` labels of every class (all training images unlabelled besides), and the
    baseline classifier on those labels alone. 10, 60 and 100 labels per class are the paper's
    100, 600 and 1000 labels on MNIST's ten classes."""
    per_class: tuple[int, ...] = (1, 10, 60, 100)
    z_dim: int = 8
    hidden: tuple[int, ...] = (256,)
    alpha: float = 10.0
    epochs: int = 200
    classifier_epochs: int = 200
    dataset: str = "digits"


QUICK = SemiSupervisedSettings(seeds=(0,), per_class=(1, 10), z_dim=2, hidden=(32,), epochs=2, classifier_epochs=2)

#: Kingma et al. (2014), Table 1, MNIST test error (%): labels in all -> (NN baseline, M2, M2's std).
PAPER = {100: (25.80, 11.97, 1.71), 600: (11.44, 4.94, 0.13), 1000: (10.70, 3.60, 0.56), 3000: (6.04, 3.92, 0.63)}


def tasks(s: SemiSupervisedSettings) -> list[tuple]:
    """(settings, labels per class, seed) per pair of models (M2 and the baseline)."""
    return [(s, n, seed) for seed in s.seeds for n in s.per_class]


def run_task(s: SemiSupervisedSettings, per_class: int, seed: int, device: str) -> Row:
    """Train M2 and the baseline classifier on the same ``per_class`` labels per class (drawn by
    ``seed``) and measure both test accuracies, and M2's test bound U(x)."""
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
    losses = fit_semi_supervised(model, x_l, y_l, data.train, s.epochs, s.alpha, batch_size=s.batch_size,
                                 lr=s.lr, seed=seed)
    seconds = time.perf_counter() - start
    classifier = fit_classifier(x_l, y_l, n_classes, hidden=s.hidden, epochs=s.classifier_epochs, lr=s.lr,
                                batch_size=s.batch_size, seed=seed)
    seed_everything(10_000 + seed)
    with torch.no_grad():
        m2 = accuracy(model.predict(data.test), data.test_labels)
        baseline = accuracy(classifier(data.test).argmax(-1), data.test_labels)
        bound = model.unlabelled_elbo(data.test, K=10).mean().item()
    return {"per_class": per_class, "labels": per_class * n_classes, "seed": seed,
            "m2_accuracy": 100 * m2, "classifier_accuracy": 100 * baseline, "m2_test_bound": bound,
            "final_loss": losses[-1], "train_seconds": round(seconds, 1)}


def table(record: Record) -> tuple[str, Any]:
    """(caption, DataFrame indexed by the number of labels): test accuracy of M2 and of the
    classifier on the labels alone, and the papers' MNIST accuracies where they ran that many."""
    import pandas as pd
    s, runs = record["settings"], pd.DataFrame(record["rows"])
    rows = []
    for n in s["per_class"]:
        r = runs[runs.per_class == n]
        labels = int(r.labels.iloc[0])
        paper = PAPER.get(labels)
        rows.append({"labels (per class)": f"{labels} ({n})",
                     "M2 accuracy %": mean_std(r.m2_accuracy, 1),
                     "labels only %": mean_std(r.classifier_accuracy, 1),
                     "M2 gain (points)": mean_std(r.m2_accuracy - r.classifier_accuracy, 1),
                     "paper M2 %": f"{100 - paper[1]:.2f} ± {paper[2]:.2f}" if paper else "–",
                     "paper labels only %": f"{100 - paper[0]:.2f}" if paper else "–"})
    caption = (f"Test accuracy (%) against the number of labels, mean ± std over {len(s['seeds'])} seed(s) "
               "(each seed draws its own labelled points); M2 sees every training image, the baseline "
               "(the same classifier network, cross-entropy) only the labelled ones. Ours: "
               f"{DATA_NAMES.get(s.get('dataset'), s.get('dataset'))}, test split. Paper: Kingma et al. (2014), "
               "Table 1, MNIST, 100 minus the reported error (the baseline is their 'NN').")
    return caption, pd.DataFrame(rows).set_index("labels (per class)")


EXPERIMENT = Experiment(name="semisupervised", title="Semi-supervised M2 (Kingma et al., 2014)",
                        chapter="book/12_conditional_vaes", settings=SemiSupervisedSettings(), quick=QUICK,
                        tasks=tasks, run=run_task, table=table)
