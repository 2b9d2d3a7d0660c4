"""The semi-supervised VAE M2 (dgmlib.models.semi_supervised): its bounds against their identities
and against log p(x), and clear errors for bad labels."""
import math

import pytest
import torch

import dgmlib
from dgmlib.models.semi_supervised import SemiSupervisedVAE, marginalize_labels

C, D, Z = 10, 64, 4


@pytest.fixture
def model(device, dtype):
    torch.manual_seed(0)
    return SemiSupervisedVAE(D, C, z_dim=Z, hidden=(32,)).to(device=device, dtype=dtype)


@pytest.fixture
def x(digits, device, dtype):
    return digits.val[:12].to(device=device, dtype=dtype)


def test_unlabelled_bound_is_the_q_weighted_labelled_bounds_plus_the_entropy(model, x):
    """U(x) = sum_y q(y|x) L(x, y) + H[q(y|x)], each L(x, y) computed on its own with the same noise."""
    eps = torch.randn(3, C, len(x), Z, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        u = model.unlabelled_elbo(x, K=3, eps=eps)
        log_q = model.classifier_log_probs(x)
        labelled = torch.stack([model.labelled_elbo(x, torch.full((len(x),), c, device=x.device),
                                                    K=3, eps=eps[:, c]) for c in range(C)], 1)
    q = log_q.exp()
    expected = (q * labelled).sum(1) - (q * log_q).sum(1)
    tol = 1e-10 if x.dtype == torch.float64 else 1e-4
    torch.testing.assert_close(u, expected, rtol=0, atol=tol * expected.abs().max().item())
    assert torch.allclose(q.sum(1), torch.ones_like(q[:, 0]))


def test_the_unlabelled_bound_reaches_the_log_sum_only_at_the_optimal_classifier(dtype):
    """Gibbs: sum_y q L + H[q] <= logsumexp_y L, with equality iff q = softmax(L)."""
    gen = torch.Generator().manual_seed(1)
    labelled = 20 * torch.randn(50, C, generator=gen, dtype=dtype) - 80
    log_sum = torch.logsumexp(labelled, 1)
    optimal = marginalize_labels(labelled, torch.log_softmax(labelled, 1))
    torch.testing.assert_close(optimal, log_sum, rtol=0, atol=1e-10 if dtype == torch.float64 else 1e-3)
    other = torch.log_softmax(torch.randn(50, C, generator=gen, dtype=dtype), 1)
    gap = log_sum - marginalize_labels(labelled, other)
    # the gap is KL(q || softmax(L)), exactly
    p = torch.log_softmax(labelled, 1)
    kl = (other.exp() * (other - p)).sum(1)
    torch.testing.assert_close(gap, kl, rtol=1e-5, atol=1e-3 if dtype == torch.float32 else 1e-9)
    assert (gap > 0).all()


def test_the_bounds_lie_below_the_marginal_likelihood(model, x):
    """E[U(x)] <= log p(x) (importance sampling over z, y summed exactly), and the bound with many
    draws of z is stable: a Monte Carlo check with a margin of 4 standard errors."""
    torch.manual_seed(2)
    with torch.no_grad():
        draws = torch.stack([model.unlabelled_elbo(x, K=50) for _ in range(20)])   # [20, B]
        log_px = dgmlib.log_marginal_likelihood(model, x, K=5000)
    bound, se = draws.mean(0), draws.std(0) / math.sqrt(len(draws))
    assert (bound <= log_px + 4 * se + 1e-3).all()
    assert (log_px - bound).mean() > 0


def _quadrature_log_joint(model, x, y):
    """log p(x, y) = log p(y) + log integral p(x | y, z) N(z; 0, 1) dz on a fine grid (z_dim = 1)."""
    grid = torch.linspace(-9, 9, 6001, dtype=torch.float64)[:, None]
    h = torch.nn.functional.one_hot(y, model.n_classes).double()
    with torch.no_grad():
        logits = model.decoder(torch.cat([grid[:, None].expand(-1, len(x), 1),
                                          h.expand(len(grid), *h.shape)], -1))      # [G, B, D]
        log_f = dgmlib.bernoulli_log_prob(x, logits) - 0.5 * (grid ** 2 + math.log(2 * math.pi))
    dz = (grid[1] - grid[0]).item()
    return torch.logsumexp(log_f, 0) + math.log(dz) + model.log_prior_y()


def test_bounds_and_estimate_against_log_p_by_quadrature():
    """A model with z_dim = 1 on all 8 binary images of 3 pixels, where log p(x, y) and
    log p(x) = logsumexp_y log p(x, y) follow by quadrature: L(x, y) <= log p(x, y),
    U(x) <= log p(x), and the importance-sampling estimate (y summed out) converges to log p(x)."""
    torch.manual_seed(4)
    model = SemiSupervisedVAE(3, 2, z_dim=1, hidden=(8,)).double()
    x = torch.tensor([[(i >> j) & 1 for j in range(3)] for i in range(8)], dtype=torch.float64)
    joint = torch.stack([_quadrature_log_joint(model, x, torch.full((8,), c)) for c in range(2)], 1)
    log_px = torch.logsumexp(joint, 1)
    torch.testing.assert_close(log_px.exp().sum(), torch.tensor(1.0, dtype=torch.float64))
    with torch.no_grad():
        labelled = model.labelled_bounds(x, K=20000)                                  # [8, 2]
        unlabelled = model.unlabelled_elbo(x, K=20000)
        estimate = dgmlib.log_marginal_likelihood(model, x, K=20000)
    assert (labelled <= joint + 1e-3).all() and (unlabelled <= log_px + 1e-3).all()
    assert (log_px - unlabelled).min() > 1e-4, "an untrained q leaves a gap"
    torch.testing.assert_close(estimate, log_px, rtol=0, atol=5e-3)


def test_alpha_zero_still_trains_the_classifier_through_the_unlabelled_bound(model, x):
    """M2's point: q(y|x) appears in U(x), so unlabelled data move the classifier even at alpha = 0."""
    y = torch.arange(4, device=x.device)
    model.zero_grad()
    model.loss(x[:4], y, x[4:], alpha=0.0).backward()
    grads = [p.grad for p in model.classifier.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    model.zero_grad()
    model.labelled_elbo(x[:4], y).sum().backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.classifier.parameters())


def test_class_conditional_samples_follow_the_model_dtype_and_labels(model):
    gen = torch.Generator(device=next(model.parameters()).device).manual_seed(0)
    y = torch.tensor([3, 3, 7], device=next(model.parameters()).device)
    s = model.sample(3, y=y, generator=gen)
    means = model.sample_means(3, y=y)
    assert s.shape == means.shape == (3, D) and s.dtype == next(model.parameters()).dtype
    assert set(s.unique().tolist()) <= {0.0, 1.0} and ((means > 0) & (means < 1)).all()


@pytest.mark.parametrize("labels, message", [
    (torch.tensor([0, 1, 2, 10]), r"0\.\.9, found 1 labels outside, e\.g\. 10"),
    (torch.tensor([0, -1, 2, 3]), r"-1 is not a 'missing' marker.*unlabelled_elbo"),
    (torch.tensor([0.0, float("nan"), 2.0, 3.0]), r"NaN.*unlabelled_elbo"),
    (torch.tensor([0.0, 1.5, 2.0, 3.0]), r"whole class indices"),
    (torch.tensor([0, 1, 2]), r"one label per image \(4 images\)"),
    (torch.tensor([[0, 1, 2, 3]]), r"\[batch\]"),
])
def test_bad_labels_give_clear_errors(model, x, labels, message):
    with pytest.raises(ValueError, match=message):
        model.labelled_elbo(x[:4], labels.to(x.device))
    with pytest.raises(ValueError, match=message):
        model.loss(x[:4], labels.to(x.device), x[4:])


def test_bad_images_give_clear_errors(model, x):
    with pytest.raises(ValueError, match=r"\[batch, 64\]"):
        model.unlabelled_elbo(x[:, :63])
    with pytest.raises(ValueError, match="binary"):
        model.unlabelled_elbo(x * 0.5)
    with pytest.raises(ValueError, match="eps must be"):
        model.unlabelled_elbo(x, eps=torch.zeros(1, C, len(x) + 1, Z, dtype=x.dtype, device=x.device))


# ------------------------------------------------------------------ the generic calls on unlabelled images

def test_elbo_and_evaluate_give_the_unlabelled_bound_and_fit_raises_it(model, x, tol):
    """dgmlib.elbo(m2, x, K) is U(x) (unlabelled_elbo) at the same noise; evaluate is its mean; fit
    trains on it (the unsupervised M2). The closed-form-KL switch says what to call instead."""
    K, B = 2, len(x)
    torch.manual_seed(3)
    generic = dgmlib.elbo(model, x, K=K)
    torch.manual_seed(3)
    eps = torch.randn(K, C * B, Z, dtype=x.dtype, device=x.device).view(K, C, B, Z)
    torch.testing.assert_close(generic, model.unlabelled_elbo(x, K=K, eps=eps), rtol=tol, atol=tol * 100)
    torch.manual_seed(4)
    value = dgmlib.evaluate(model, x)
    torch.manual_seed(4)
    assert math.isclose(value, model.unlabelled_elbo(x).mean().item(), rel_tol=tol)
    with pytest.raises(ValueError, match="analytic_kl=False"):
        dgmlib.elbo(model, x, analytic_kl=True)
    history = dgmlib.fit(model, x, epochs=30, batch_size=12, lr=3e-3, progress=False)
    assert history.train[-1] > history.train[0] and all(map(math.isfinite, history.train))


def test_active_units_of_m2_read_the_classifier_weighted_encoder_means(model, x, tol):
    """E_q[z|x] = sum_y q(y|x) mu(x, y) under q(z|x) = sum_y q(y|x) q(z|x, y), computed class by class."""
    with torch.no_grad():
        q = model.classifier_log_probs(x).exp()
        mu = torch.stack([model.encode(x, torch.full((len(x),), c, device=x.device))[0] for c in range(C)], 1)
    expected = (q[..., None] * mu).sum(1)                                    # [B, Z]
    torch.testing.assert_close(model.posterior_mean(x), expected, rtol=tol, atol=tol)
    au = dgmlib.active_units(model, x, batch_size=5)                        # in batches of 5 rows
    torch.testing.assert_close(au.variance, expected.var(0, unbiased=False), rtol=tol, atol=tol)
    assert au.count == int((expected.var(0, unbiased=False) > 0.01).sum())

def test_the_labelled_weight_scales_only_the_labelled_bound(model, x):
    """J = -w mean L(x_l, y_l) - mean U(x_u) + alpha mean(-log q(y_l|x_l)): linear in w, and the
    slope is minus the labelled bound of the same noise."""
    y = torch.arange(4, device=x.device)
    values = {}
    with torch.no_grad():
        for w in (0.0, 1.0, 0.25):
            torch.manual_seed(3)
            values[w] = model.loss(x[:4], y, x[4:], alpha=0.1, labelled_weight=w)
        torch.manual_seed(3)
        labelled = model.labelled_elbo(x[:4], y).mean()
    tol = 1e-10 if x.dtype == torch.float64 else 1e-4
    torch.testing.assert_close(values[1.0] - values[0.0], -labelled, rtol=tol, atol=tol * 100)
    torch.testing.assert_close(values[0.25], values[0.0] + 0.25 * (values[1.0] - values[0.0]),
                               rtol=tol, atol=tol * 100)
