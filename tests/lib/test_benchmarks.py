"""The benchmarks compare methods that must compute the same numbers, and publish verdicts on
ratios: both are checked here. Their speed is measured in benchmarks/, never asserted."""
import math
import pathlib
import sys

import torch

import dgmlib
from dgmlib.models import LinearGaussian

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_eval  # noqa: E402
import publish  # noqa: E402


def exact_model():
    lg = LinearGaussian.random(5, 2, logvar=math.log(0.3), generator=torch.Generator().manual_seed(1))
    return lg, lg.as_vae()


def test_every_b2_estimator_gives_the_exact_log_likelihood_with_the_true_posterior(tol):
    # with q(z|x) = p(z|x) every importance weight equals p(x): each method must return log p(x)
    lg, model = exact_model()
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(2))
    exact = lg.log_marginal(x)
    for estimate in (dgmlib.log_marginal_likelihood(model, x, K=200),
                     bench_eval.library_loop(model, x, K=200), bench_eval.lean_loop(model, x, K=200)):
        assert torch.allclose(estimate.to(exact.dtype), exact, rtol=tol, atol=10 * tol)


def test_the_library_loop_encodes_every_copy_and_the_floor_decodes_k_samples_per_point():
    _, model = exact_model()
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(2))
    rows = {"encoder": 0, "decoder": 0}
    for name in rows:
        getattr(model, name).register_forward_hook(
            lambda mod, args, out, name=name: rows.__setitem__(name, rows[name] + args[0].shape[:-1].numel()))
    bench_eval.library_loop(model, x, K=300)
    assert rows == {"encoder": 3 * 300, "decoder": 3 * 300}
    for chunk in (None, 128):  # one pass per point, or passes of 128, 128 and 44 samples
        rows.update(encoder=0, decoder=0)
        bench_eval.arithmetic_floor(model, x, K=300, chunk=chunk)
        assert rows == {"encoder": 0, "decoder": 3 * 300}


def test_b1_ratios_are_taken_within_each_round_and_judged_by_their_median():
    case = {"data": "digits 1297x64, MLP 64-256-256-8", "batch": 128,
            "seconds": {"compute floor": [1.0, 2.0, 1.0], "dgmlib.fit": [1.1, 2.2, 1.3],
                        "DataLoader loop": [1.0, 2.4, 1.2]}}
    rows = publish.b1_verdicts({"device": "cpu", "cases": [case]})
    # per round fit / floor = 1.1, 1.1, 1.3 (the ratio of pooled medians, 1.3 / 1.0, would miss)
    assert "| 1.100 (1.100-1.300) | met |" in rows[-1]
    # fit / DataLoader = 1.1, 0.917, 1.083: median above 1, one round below
    assert "| 1.083 (0.917-1.100) | missed (within noise: some rounds met it) |" in rows[-1]
