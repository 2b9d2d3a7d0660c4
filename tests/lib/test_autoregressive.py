import math

import pytest
import torch

import dgmlib
from dgmlib.models import ARDecoder, window_mask
from dgmlib.nets import mlp_encoder


def ar_vae(x_dim=6, z_dim=2, window=None, seed=0, **kw):
    torch.manual_seed(seed)
    return dgmlib.VAE(mlp_encoder(x_dim, (16,), z_dim), ARDecoder(x_dim, z_dim, hidden=8, window=window, **kw),
                      dgmlib.StandardNormal(z_dim))


def randomize(module, seed=1):
    # larger random weights so that no derivative is zero by accident
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def input_jacobian(decoder, z, x):
    """d logit_i / d x_j at one point: [D, D]."""
    return torch.autograd.functional.jacobian(lambda x_: decoder(z, x_[None])[0], x)


@pytest.mark.parametrize("window", [None, 1, 3])
def test_output_i_depends_only_on_the_window_of_previous_inputs(window, dtype):
    D = 7
    dec = randomize(ARDecoder(D, 3, hidden=5, window=window, activation="tanh")).eval()
    J = input_jacobian(dec, torch.randn(3), torch.rand(D))
    i, j = torch.meshgrid(torch.arange(D), torch.arange(D), indexing="ij")
    allowed = (j < i) & ((j >= i - window) if window is not None else True)
    assert bool((J[~allowed] == 0).all()), "output i must not read x_j for j >= i or outside the window"
    assert bool((J[allowed].abs() > 1e-6).all()), "every allowed connection is used"


def test_window_zero_is_a_factorized_decoder_and_the_first_output_reads_only_z():
    dec = randomize(ARDecoder(5, 2, hidden=4, window=0)).eval()
    z, x1, x2 = torch.randn(2), torch.rand(5), torch.rand(5)
    assert torch.equal(dec(z, x1[None]), dec(z, x2[None]))
    full = randomize(ARDecoder(5, 2, hidden=4)).eval()
    assert torch.equal(full(z, x1[None])[:, 0], full(z, x2[None])[:, 0])
    assert not torch.equal(full(z, x1[None])[:, 0], full(torch.randn(2), x1[None])[:, 0])


def test_window_mask_golden_value():
    expected = torch.tensor([[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0]], dtype=torch.get_default_dtype())
    assert torch.equal(window_mask(4, 1, window=2), expected)
    assert torch.equal(window_mask(4, 2, window=None), torch.tril(torch.ones(4, 4), -1).repeat_interleave(2, 0))


def test_log_prob_of_a_sample_under_teacher_forcing_equals_the_sum_recorded_while_sampling(tol):
    dec = randomize(ARDecoder(6, 2, hidden=4), seed=3).eval()
    torch.manual_seed(0)
    z = torch.randn(4, 5, 2)
    x, log_prob = dec.sample(z, return_log_prob=True)
    assert x.shape == (4, 5, 6) and set(x.unique().tolist()) <= {0.0, 1.0}
    teacher = torch.stack([dgmlib.bernoulli_log_prob(x[k], dec(z[k], x[k])) for k in range(4)])
    assert torch.allclose(teacher, log_prob, rtol=tol, atol=tol)


def test_samples_follow_the_model_distribution():
    # D = 2: the exact p(x | z) of the 4 outcomes from teacher forcing vs sample frequencies
    dec = randomize(ARDecoder(2, 1, hidden=3), seed=5).eval()
    z = torch.zeros(1)
    outcomes = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    exact = dgmlib.bernoulli_log_prob(outcomes, dec(z.expand(4, 1), outcomes)).exp()
    assert abs(exact.sum().item() - 1) < 1e-5
    torch.manual_seed(0)
    n = 40_000
    x = dec.sample(z.expand(n, 1))
    freq = torch.stack([((x == o).all(-1)).double().mean() for o in outcomes]).to(exact.dtype)
    assert torch.allclose(freq, exact, atol=4 * math.sqrt(0.25 / n))


def test_probabilities_sum_to_one_over_all_images(tol):
    D = 5
    dec = randomize(ARDecoder(D, 2, hidden=3), seed=7).eval()
    images = torch.tensor([[(b >> i) & 1 for i in range(D)] for b in range(2 ** D)], dtype=torch.get_default_dtype())
    z = torch.randn(2).expand(2 ** D, 2)
    total = torch.logsumexp(dgmlib.bernoulli_log_prob(images, dec(z, images)), 0)
    assert abs(total.item()) < 10 * tol


def test_vae_with_ar_decoder_teacher_forces_over_importance_samples(tol):
    model = ar_vae()
    x = (torch.rand(3, 6) > 0.5).to(torch.get_default_dtype())
    torch.manual_seed(2)
    t = model.terms(x, K=4)
    assert t.log_px_z.shape == (4, 3)
    expected = torch.stack([dgmlib.bernoulli_log_prob(x, model.decoder(t.z[k], x)) for k in range(4)])
    assert torch.allclose(t.log_px_z, expected, rtol=tol, atol=tol)
    assert model.sample(5).shape == (5, 6) and model.reconstruct(x).shape == (3, 6)
    ll = dgmlib.log_marginal_likelihood(model, x, K=50, chunk=7)
    assert ll.shape == (3,) and bool(torch.isfinite(ll).all())


def test_input_dropout_acts_only_in_training_mode():
    dec = randomize(ARDecoder(6, 2, hidden=4, input_dropout=0.5), seed=2)
    z, x = torch.randn(10, 2), torch.ones(10, 6)
    dec.eval()
    a, b = dec(z, x), dec(z, x)
    assert torch.equal(a, b)
    dec.train()
    torch.manual_seed(0)
    assert not torch.equal(dec(z, x), a)
    # a dropped pixel is 0, the value that no observed pixel (+-1) takes: all dropped = nothing seen
    full = ARDecoder(6, 2, hidden=4, input_dropout=0.999999)
    randomize(full, seed=2).train()
    torch.manual_seed(1)
    assert torch.allclose(full(z, x), full(z, torch.zeros_like(x)))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="z_dim"):
        ARDecoder(4, 2)(torch.zeros(3), torch.zeros(1, 4))
    with pytest.raises(ValueError, match="x_dim"):
        ARDecoder(4, 2)(torch.zeros(2), torch.zeros(1, 5))
    with pytest.raises(ValueError, match="window"):
        ARDecoder(4, 2, window=-1)
    with pytest.raises(ValueError, match="input_dropout"):
        ARDecoder(4, 2, input_dropout=1.0)
    with pytest.raises(ValueError, match="autoregressive"):
        ar_vae().decode(torch.zeros(1, 2))


def test_float64_and_training_step_work(digits):
    model = dgmlib.VAE(mlp_encoder(64, (16,), 2), ARDecoder(64, 2, hidden=4), dgmlib.StandardNormal(2)).double()
    history = dgmlib.fit(model, digits.train[:200].double(), epochs=2, progress=False)
    assert len(history) == 2 and math.isfinite(history.train[-1])
    assert next(model.parameters()).dtype == torch.float64


def test_elbo_surgery_handles_ar_decoders_by_teacher_forcing(tol):
    torch.manual_seed(0)
    x = (torch.rand(40, 6) > 0.5).to(torch.get_default_dtype())
    cut = dgmlib.elbo_surgery(ar_vae(), x, samples=2)
    assert abs(cut.avg_kl - cut.mutual_info - cut.marginal_kl) < 10 * tol
    assert cut.mutual_info <= math.log(40) and math.isfinite(cut.elbo)   # a Monte Carlo estimate may dip below 0
