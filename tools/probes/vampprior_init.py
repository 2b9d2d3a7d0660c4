"""Control runs behind the VampPrior finding of issue 25 (why a tanh VAE with a VampPrior collapses).

    OMP_NUM_THREADS=1 python tools/probes/vampprior_init.py VARIANT EPOCHS WARMUP [linear] [relu] [detach] [he] [seedN]

VARIANT: standard | vamp_default (pseudo-inputs uniform in [0.25, 0.75]) | vamp_paper (0.05 +- 0.01)
| vamp_data (100 training grey images). The model: 784-200-200-20 VAE (tanh unless `relu`), 100
components, Monte Carlo KL, KL warm-up over WARMUP epochs (a staircase from 1/WARMUP, or `linear`
from 0), Adam 1e-3, batch 128, dynamically binarized MNIST-5k, seed 0. `detach`: the prior's
components use the encoder's weights without gradient (only the pseudo-inputs learn through the
prior); `he`: the MLPs' weights initialized as dgmlib.nets.mlp(init="he") (N(0, 2 / fan_in) on every
layer, zero biases, as in Tomczak & Welling's code); `seedN`: the seed (default 0).

Measured on 2026-12-06 (dgmlib at the commit that added this file; 2 CPU cores shared, so no timings):
- tanh, PyTorch's default init: the VampPrior never leaves the collapsed state: KL < 0.01 nats and
  0 active units at every check through 40 epochs (seed 0; test NLL 205.7, independent pixels), the
  same with the paper's pseudo-input init, with a linear warm-up from beta = 0 (20 epochs), with the
  encoder detached from the prior (8 epochs) and in seed 1 (8 epochs). The standard prior in the
  same loop has 16-20 active units by epoch 20 (test NLL 134.3 at 40 epochs, seed 0).
- relu, default init: the VampPrior uses 20 of 20 units from epoch 5; test NLL 131.3 at 20 epochs.
- tanh, He init: the VampPrior uses 20 of 20 units from epoch 2 in seeds 0 and 1 (KL 2.8 and 4.6
  nats), test NLL 172.9 and 170.5 at 8 epochs; the standard prior 149.2 at 8 epochs (seed 1).
- tanh, Glorot init (gain 5/3, last layer gain 1): still collapsed at 8 epochs (1-12 units, KL
  < 0.5 nats); only with gain 5/3 on the output layer too did it leave the collapsed state.

Measured on 2026-12-07 (30 epochs, warm-up 10, seed 0; train / test -log p(x), K = 500):
- ReLU, PyTorch's default init: standard 123.2 / 124.2; VampPrior with the default, the paper's and
  data pseudo-inputs 119.5 / 121.5, 119.3 / 121.5 and 120.0 / 121.8. With ReLU the default VampPrior
  is ahead of the standard prior, whatever its pseudo-inputs start as.
- ReLU, He init: standard 111.3 / 113.4; VampPrior (paper's pseudo-inputs) 109.6 / 112.4, (data)
  110.7 / 113.2, and with the encoder detached from the prior 112.6 / 113.9. He init gains about 10
  nats at 30 epochs for both priors.
- tanh, He init: standard 120.7 / 121.6; VampPrior (paper's pseudo-inputs) 135.8 / 136.9, (data)
  137.1 / 138.0, but with the encoder detached from the prior (only the pseudo-inputs learn
  through it) 120.2 / 121.8. So with tanh networks, the second cause of the VampPrior's shortfall
  is the gradient of the prior term that reaches the shared encoder: without it the VampPrior
  catches up with the standard prior; with ReLU the same gradient helps (109.6 against 112.6). We
  do not know why the activation flips its effect. One seed, 30 epochs.
The book's priors table therefore uses ReLU networks with He init (the paper's code: He init,
gated units).

So the initialization's scale decides the collapse: at 784 inputs PyTorch's default leaves a tanh MLP nearly
blind to its input, and a VampPrior (whose KL is zero for any encoder that ignores its input) keeps
it there. Not yet measured: whether the init also explains the VampPrior's likelihood shortfall after
full training (the priors table under the papers' protocol will).
"""
import math
import sys
import time

import torch
from torch.func import functional_call

import dgmlib
from dgmlib import AnnealedELBO
from dgmlib.schedules import LinearWarmup, Staircase


def main(variant: str, epochs: int, warm: int, flags: list[str]) -> None:
    torch.set_num_threads(1)
    data = dgmlib.load("mnist5k", binarize="dynamic")
    dgmlib.seed_everything(next((int(f[4:]) for f in flags if f.startswith("seed")), 0))
    prior = "standard" if variant == "standard" else "vampprior"
    m = dgmlib.build_vae(784, 20, hidden=(200, 200), activation="relu" if "relu" in flags else "tanh",
                         prior=prior, prior_components=100, init=next((f for f in flags if f in dgmlib.nets.INITS), "torch"))
    with torch.no_grad():
        if variant == "vamp_paper":
            m.prior.raw.copy_(0.05 + 0.01 * torch.randn_like(m.prior.raw))
        elif variant == "vamp_data":
            m.prior.raw.copy_(data.train_levels[torch.randperm(4000)[:100]])
    if "detach" in flags:        # the prior's components see the encoder's weights without gradient
        enc = m.prior.encoder
        m.prior.components_params = lambda: functional_call(
            enc, {k: v.detach() for k, v in enc.named_parameters()}, (m.prior.pseudo_inputs,))
    steps = math.ceil(4000 / 128)
    schedule = LinearWarmup(warm * steps) if "linear" in flags else Staircase(warm * steps, steps)
    objective = AnnealedELBO(schedule, analytic_kl=False)

    def report(epoch, model):
        if epoch % 2 == 0 or epoch == epochs:
            with torch.no_grad():
                t = model.terms(data.val, K=1)
                kl = (t.log_qz - t.log_pz).mean().item()
            print(variant, dict(epoch=epoch, val_elbo=round(t.log_w.mean().item(), 2), kl=round(kl, 3),
                                au=dgmlib.active_units(model, data.val).count), flush=True)
    start = time.time()
    dgmlib.fit(m, data, epochs=epochs, objective=objective, lr=1e-3, progress=False, callback=report)
    with torch.no_grad():
        dgmlib.seed_everything(1)
        test = dgmlib.log_marginal_likelihood(m, data.test, K=500).mean().item()
        train = dgmlib.log_marginal_likelihood(m, data.train[:500], K=500).mean().item()
    print("RESULT", variant, flags, dict(test_nll=-test, train_nll=-train, seconds=time.time() - start))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
