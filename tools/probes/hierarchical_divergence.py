"""Control run behind the hierarchical table's three-layer bottom-up row (issue 25): seed 1 of
``L3_bottom_up`` on MNIST-5k ends at test NLL 181 where seeds 0 and 2 reach 99. Is that because
early stopping ran out of patience during the warm-up, after a divergence the model would have
recovered from?

    OMP_NUM_THREADS=1 python tools/probes/hierarchical_divergence.py SEED [OUT.json]

Trains the table's ``L3_bottom_up`` task with ``hierarchical.MNIST5K_NEXT``: the settings of the
committed table (``hierarchical.MNIST5K``) except that the best state is selected, and the patience
counted, only after the 100-epoch warm-up (``select_after_warmup``). It prints the row's test NLL,
train NLL, -ELBO, KL per layer and convergence, and the validation curve, and writes the row to
OUT.json when given. Seeds 0 and 2 of the committed table already selected their last epoch, so the
control changes only seed 1.

Measured on 2026-12-07 (seed 1, the code of the commit that added this file; 2 CPU cores shared,
so no timings): the run diverges at the same place as in the table (training ELBO -202 at epoch
40, -3516 at epoch 50; validation log-likelihood -197 at epoch 40, -1035 at epoch 60), and with the
state selected after the warm-up it keeps training to the 500-epoch cap (best epoch 500). It ends
with test NLL 107.69 (K = 1000: 108.66), train NLL 103.71, test -ELBO 123.25, KL per layer 18.66,
11.28 and 2.77 nats, with its validation log-likelihood still rising by about 1.2 nats per 10
epochs (-112.80 at epoch 490, -111.72 at 500). Seeds 0 and 2 of the table end at 99.33 and 98.98.
So the 181 nats of the table measure the early-stopping rule: the model recovers from the
divergence but had not caught up with the other seeds after 500 epochs. Why it diverged we have not
measured.
"""
from __future__ import annotations

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dgmlib.experiments import hierarchical  # noqa: E402


def main(argv: list[str]) -> None:
    seed = int(argv[0])
    row = hierarchical.run_task(hierarchical.MNIST5K_NEXT, "L3_bottom_up", seed, "cpu")
    row.pop("layer_samples", None)
    print(f"L3_bottom_up seed {seed}: test NLL {row['test_nll']:.2f} (K = 1000: {row['test_nll_by_K']['1000']:.2f}), "
          f"train NLL {row['train_nll']:.2f}, test -ELBO {row['test_neg_elbo']:.2f}, "
          f"KL per layer {[round(k, 2) for k in row['kl_per_layer']]}, "
          f"best epoch {row['best_epoch']} of {row['epochs_run']} run")
    print("validation curve (epoch, train ELBO, validation log-likelihood):", row["val_curve"])
    if len(argv) > 1:
        pathlib.Path(argv[1]).write_text(json.dumps(row, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
