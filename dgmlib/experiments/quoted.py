"""The papers' result tables that the book quotes but does not reproduce, copied from the lecture
decks the book is built from (``/work/shared/lectures``; the numbers exactly as there, the LaTeX
markup dropped). ``tools/tables.py publish`` renders them on the appendix page, marked as quoted.

Each entry of :data:`TABLES` has a ``title``, the ``source`` (paper and table), the ``deck`` it was
copied from, the ``chapter`` that discusses it, a ``note`` with units and data, the ``columns`` and
the ``rows`` (strings, one per cell, "" for a blank cell).
"""
from __future__ import annotations

from typing import Any

__all__ = ["NOTICE", "TABLES", "find", "frame"]

#: The notice that marks every quoted table.
NOTICE = "Quoted from the paper (via the lecture deck), not reproduced."

#: The quoted tables, in the order of the chapters that discuss them.
TABLES: list[dict[str, Any]] = [
    {"title": "IWAE and VAE on MNIST and Omniglot, one and two stochastic layers",
     "source": "Burda et al. (2016), Table 1", "deck": "003_ec2566810414da9c.txt", "chapter": "03_iwae",
     "note": "Test NLL in nats (lower is better) and active units (two layers: first + second layer).",
     "columns": ["stoch. layers", "k", "MNIST VAE NLL", "MNIST VAE AU", "MNIST IWAE NLL", "MNIST IWAE AU",
                 "Omniglot VAE NLL", "Omniglot VAE AU", "Omniglot IWAE NLL", "Omniglot IWAE AU"],
     "rows": [["1", "1", "86.76", "19", "86.76", "19", "108.11", "28", "108.11", "28"],
              ["1", "5", "86.47", "20", "85.54", "22", "107.62", "28", "106.12", "34"],
              ["1", "50", "86.35", "20", "84.78", "25", "107.80", "28", "104.67", "41"],
              ["2", "1", "85.33", "16+5", "85.33", "16+5", "107.58", "28+4", "107.56", "30+5"],
              ["2", "5", "85.01", "17+5", "83.89", "21+5", "106.31", "30+5", "104.79", "38+6"],
              ["2", "50", "84.78", "17+5", "82.90", "26+7", "106.30", "30+5", "103.38", "44+7"]]},
    {"title": "IAF posteriors in a VAE: depth and width",
     "source": "Kingma et al. (2016), MNIST results", "deck": "002_b3a707a7a4931ce8.txt", "chapter": "05_flows",
     "note": "Binarized MNIST, nats: variational lower bound (VLB) and estimated log p(x) (higher is better).",
     "columns": ["model", "VLB", "log p(x) ≈"],
     "rows": [["Convolutional VAE + HVI", "-83.49", "-81.94"],
              ["DLGM 2hl + IWAE", "", "-82.90"],
              ["LVAE", "", "-81.74"],
              ["DRAW + VGP", "-79.88", ""],
              ["Diagonal covariance", "-84.08 (± 0.10)", "-81.08 (± 0.08)"],
              ["IAF (Depth = 2, Width = 320)", "-82.02 (± 0.08)", "-79.77 (± 0.06)"],
              ["IAF (Depth = 2, Width = 1920)", "-81.17 (± 0.08)", "-79.30 (± 0.08)"],
              ["IAF (Depth = 4, Width = 1920)", "-80.93 (± 0.09)", "-79.17 (± 0.08)"],
              ["IAF (Depth = 8, Width = 1920)", "-80.80 (± 0.07)", "-79.10 (± 0.07)"]]},
    {"title": "Sylvester flows on Freyfaces, Omniglot and Caltech 101",
     "source": "van den Berg et al. (2018), results on three data sets", "deck": "004_0e078e4bc9413a91.txt", "chapter": "05_flows",
     "note": "Negative ELBO and NLL (lower is better), mean ± std over runs; Omniglot and Caltech 101 in "
             "nats, Freyfaces per dimension as in the paper. The MNIST numbers stand beside ours in the "
             "flows table above.",
     "columns": ["model", "Freyfaces -ELBO", "Freyfaces NLL", "Omniglot -ELBO", "Omniglot NLL",
                 "Caltech 101 -ELBO", "Caltech 101 NLL"],
     "rows": [["VAE", "4.53 ± 0.02", "4.40 ± 0.03", "104.28 ± 0.39", "97.25 ± 0.23", "110.80 ± 0.46", "99.62 ± 0.74"],
              ["Planar", "4.40 ± 0.06", "4.31 ± 0.06", "102.65 ± 0.42", "96.04 ± 0.28", "109.66 ± 0.42", "98.53 ± 0.68"],
              ["IAF", "4.47 ± 0.05", "4.38 ± 0.04", "102.41 ± 0.04", "96.08 ± 0.16", "111.58 ± 0.38", "99.92 ± 0.30"],
              ["O-SNF", "4.51 ± 0.04", "4.39 ± 0.05", "99.00 ± 0.29", "93.82 ± 0.21", "106.08 ± 0.39", "94.61 ± 0.83"],
              ["H-SNF", "4.46 ± 0.05", "4.35 ± 0.05", "99.00 ± 0.04", "93.77 ± 0.03", "104.62 ± 0.29", "93.82 ± 0.62"],
              ["T-SNF", "4.45 ± 0.04", "4.35 ± 0.04", "99.33 ± 0.23", "93.97 ± 0.13", "105.29 ± 0.64", "94.92 ± 0.73"]]},
    {"title": "VampPrior: every data set and architecture",
     "source": "Tomczak & Welling (2018), results on six data sets", "deck": "004_0e078e4bc9413a91.txt", "chapter": "07_priors",
     "note": "Test log-likelihood in nats (higher is better) for the MNIST variants, Omniglot and Caltech 101; "
             "Frey Faces and Histopathology as printed in the deck (positive, per-dimension values; see "
             "the paper for their definition).",
     "columns": ["data set", "VAE (L=1) standard", "VAE (L=1) VampPrior", "HVAE (L=2) standard",
                 "HVAE (L=2) VampPrior", "convHVAE (L=2) standard", "convHVAE (L=2) VampPrior",
                 "PixelHVAE (L=2) standard", "PixelHVAE (L=2) VampPrior"],
     "rows": [["static MNIST", "-88.56", "-85.57", "-86.05", "-83.19", "-82.41", "-81.09", "-80.58", "-79.78"],
              ["dynamic MNIST", "-84.50", "-82.38", "-82.42", "-81.24", "-80.40", "-79.75", "-79.70", "-78.45"],
              ["Omniglot", "-108.50", "-104.75", "-103.52", "-101.18", "-97.65", "-97.56", "-90.11", "-89.76"],
              ["Caltech 101", "-123.43", "-114.55", "-112.08", "-108.28", "-106.35", "-104.22", "-85.51", "-86.22"],
              ["Frey Faces", "4.63", "4.57", "4.61", "4.51", "4.49", "4.45", "4.43", "4.38"],
              ["Histopathology", "6.07", "6.04", "5.82", "5.75", "5.59", "5.58", "4.84", "4.82"]]},
    {"title": "VampPrior against other models on static MNIST",
     "source": "Tomczak & Welling (2018), comparison table", "deck": "003_ec2566810414da9c.txt", "chapter": "07_priors",
     "note": "Test log-likelihood in nats (higher is better). HVAE (L = 2) + MoG is the two-level model with a "
             "mixture-of-Gaussians prior: no row of our priors table corresponds to it.",
     "columns": ["model", "LL"],
     "rows": [["VAE (L = 1) + NF", "-85.10"], ["VAE (L = 2)", "-87.86"], ["IWAE (L = 2)", "-85.32"],
              ["HVAE (L = 2) + SG", "-85.89"], ["HVAE (L = 2) + MoG", "-85.07"],
              ["HVAE (L = 2) + VampPrior data", "-85.71"], ["HVAE (L = 2) + VampPrior", "-83.19"],
              ["AVB + AC (L = 1)", "-80.20"], ["VLAE", "-79.03"], ["VAE + IAF", "-79.88"],
              ["convHVAE (L = 2) + VampPrior", "-81.09"], ["PixelHVAE (L = 2) + VampPrior", "-79.78"]]},
    {"title": "AF-VAE: an autoregressive-flow prior",
     "source": "Chen et al. (2017), Table 1", "deck": "002_b3a707a7a4931ce8.txt", "chapter": "07_priors",
     "note": "Statically binarized MNIST, test NLL in nats (lower is better).",
     "columns": ["model", "NLL test"],
     "rows": [["Normalizing flows (Rezende & Mohamed, 2015)", "85.10"], ["DRAW (Gregor et al., 2015)", "< 80.97"],
              ["Discrete VAE (Rolfe, 2016)", "81.01"], ["PixelRNN (van den Oord et al., 2016a)", "79.20"],
              ["IAF VAE (Kingma et al., 2016)", "79.88"], ["AF VAE", "79.30"], ["VLAE", "79.03"]]},
    {"title": "Deep hierarchies and autoregressive models on CIFAR-10",
     "source": "Maaløe et al. (2019), Table 4", "deck": "002_b3a707a7a4931ce8.txt",
     "chapter": "11_hierarchical_vaes",
     "note": "Test negative log-likelihood in bits per dimension on CIFAR-10 (32x32 colour images), lower "
             "is better; ≤ marks a bound (L_k: importance-weighted bound with k samples), = an exact value.",
     "columns": ["model", "autoregressive components", "bits/dim"],
     "rows": [["ConvDRAW (Gregor et al., 2016)", "yes", "< 3.58"],
              ["IAF-VAE, L_1 (Kingma et al., 2016)", "yes", "≤ 3.15"],
              ["IAF-VAE, L_1e3 (Kingma et al., 2016)", "yes", "≤ 3.11"],
              ["Gated PixelCNN (van den Oord et al., 2016b)", "yes", "= 3.03"],
              ["PixelRNN (van den Oord et al., 2016c)", "yes", "= 3.00"],
              ["VLAE (Chen et al., 2017)", "yes", "≤ 2.95"],
              ["PixelCNN++ (Salimans et al., 2017)", "yes", "= 2.92"],
              ["NICE (Dinh et al., 2014)", "no", "= 4.48"],
              ["Deep GMMs (van den Oord & Schrauwen, 2014)", "no", "= 4.00"],
              ["RealNVP (Dinh et al., 2016)", "no", "= 3.49"],
              ["Discrete VAE++ (Vahdat et al., 2018)", "no", "≤ 3.38"],
              ["Glow (Kingma & Dhariwal, 2018)", "no", "= 3.35"],
              ["BIVA, L = 10, L_1", "no", "≤ 3.17"],
              ["BIVA, L = 15, L_1", "no", "≤ 3.12"],
              ["BIVA, L = 15, L_1e3", "no", "≤ 3.08"]]},
    {"title": "PixelVAE on ImageNet 64x64",
     "source": "Gulrajani et al. (2017), ImageNet 64x64 table", "deck": "000_cb6fe3fe6549d6a9.txt",
     "chapter": "08_posterior_collapse",
     "note": "NLL in bits per dimension on the validation set (training set in brackets), lower is better.",
     "columns": ["model", "NLL validation (train)"],
     "rows": [["Convolutional DRAW (Gregor et al., 2016)", "≤ 4.10 (4.04)"],
              ["Real NVP (Dinh et al., 2016)", "= 4.01 (3.93)"],
              ["PixelRNN (van den Oord et al., 2016a)", "= 3.63 (3.57)"],
              ["Gated PixelCNN (van den Oord et al., 2016b)", "= 3.57 (3.48)"],
              ["Hierarchical PixelVAE", "≤ 3.66 (3.59)"]]},
]


def find(title: str) -> dict[str, Any]:
    """The quoted table whose title starts with ``title`` (a chapter quoting a table beside its own)."""
    hits = [t for t in TABLES if t["title"].startswith(title)]
    if len(hits) != 1:
        raise ValueError(f"{len(hits)} quoted tables have a title starting with {title!r}; titles: "
                         + "; ".join(t["title"] for t in TABLES))
    return hits[0]


def frame(table: dict[str, Any]):
    """The quoted table as a pandas DataFrame (columns as in the paper, no index)."""
    import pandas as pd
    return pd.DataFrame(table["rows"], columns=table["columns"])
