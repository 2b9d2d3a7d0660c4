"""Control run behind the collapse table's warm-up row (issue 25): does seed 1 of "AR + KL warm-up"
on MNIST-5k end badly because early stopping counted its patience during the warm-up?

    OMP_NUM_THREADS=1 python tools/probes/warmup_selection.py SEED [OUT.json]

Trains the table's ``ar_warmup`` task with ``collapse.MNIST5K_NEXT``: the settings of the table's
earlier file (``collapse.MNIST5K``, in the file's git history) except that the warm-up model selects
its best state, and counts its patience, only after the warm-up (``select_after_warmup``). The
table was rerun with these settings on 2026-12-07 and its seed-1 warm-up row is this run's numbers. It prints the row's test NLL, KL, mutual
information and convergence, and writes the row to OUT.json when given. For seeds 0 and 2 the
committed rows already selected a state after the warm-up (their best epoch is the last), so the
control changes only seed 1.

Measured on 2026-12-07 (seed 1, the code of the commit that added this file; 2 CPU cores shared,
so no timings): ar_warmup seed 1 trains to the 60-epoch cap (best epoch 60) and ends with test NLL
88.21 (K = 50: 88.39), train NLL 88.80, KL 7.56, MI 6.09. In the committed table the same seed
stopped at epoch 25 in its epoch-10 state (test NLL 103.52, KL 26.26); the plain PixelCNN of seed
1 has test NLL 88.06 and KL 6.23. So with the state selected after the warm-up, seed 1's warm-up
model keeps more KL than the plain one, as seeds 0 and 2 do, and is 0.15 nats worse in test NLL,
where seeds 0 and 2 are 0.21 and 0.14 nats better: warm-up's effect on the NLL has no consistent
sign over the three seeds.
"""
from __future__ import annotations

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dgmlib.experiments import collapse  # noqa: E402


def main(argv: list[str]) -> None:
    seed = int(argv[0])
    row = collapse.run_task(collapse.MNIST5K_NEXT, "ar_warmup", seed, "cpu")
    print(f"ar_warmup seed {seed}: test NLL {row['test_nll']:.2f} (K = 50: {row['test_nll_by_K']['50']:.2f}), "
          f"train NLL {row['train_nll']:.2f}, KL {row['kl']:.2f}, MI {row['mutual_info']:.2f}, "
          f"best epoch {row['best_epoch']} of {row['epochs_run']} run")
    if len(argv) > 1:
        pathlib.Path(argv[1]).write_text(json.dumps(row, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
