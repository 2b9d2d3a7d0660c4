"""Training with few labels (dgmlib.semi_supervised): the labelled subset, M2's training loop, the
baseline classifier and the accuracy, against values known in advance."""
import pytest
import torch

from dgmlib.models import SemiSupervisedVAE
from dgmlib.semi_supervised import accuracy, fit_classifier, fit_semi_supervised, labelled_subset


def test_the_labelled_subset_has_exactly_per_class_distinct_points_of_every_class():
    labels = torch.arange(5).repeat(20)[torch.randperm(100, generator=torch.Generator().manual_seed(3))]
    idx = labelled_subset(labels, 7, seed=1)
    assert len(idx) == 35 and len(set(idx.tolist())) == 35
    assert torch.equal(torch.bincount(labels[idx]), torch.full((5,), 7))
    assert torch.equal(idx, labelled_subset(labels, 7, seed=1))            # the seed fixes the draw
    assert not torch.equal(idx, labelled_subset(labels, 7, seed=2))
    assert set(labelled_subset(labels, 20).tolist()) == set(range(100))    # all of them


def test_a_class_with_too_few_points_or_float_labels_give_clear_errors():
    labels = torch.tensor([0, 0, 0, 1])
    with pytest.raises(ValueError, match="class 1 has only 1 points, fewer than per_class = 2"):
        labelled_subset(labels, 2)
    with pytest.raises(ValueError, match="int64"):
        labelled_subset(labels.float(), 1)


def _two_blobs(n, device, dtype, seed=0):
    """Two classes of 12-pixel binary images: class c lights pixels 6c..6c+5 with probability 0.9."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(2).repeat(n // 2)
    p = torch.full((n, 12), 0.1)
    p[y == 0, :6], p[y == 1, 6:] = 0.9, 0.9
    return torch.bernoulli(p, generator=g).to(device=device, dtype=dtype), y.to(device)


def test_fit_classifier_separates_two_separable_classes_from_their_labels(device, dtype):
    x, y = _two_blobs(40, device, dtype)
    x_test, y_test = _two_blobs(200, device, dtype, seed=1)
    net = fit_classifier(x, y, 2, hidden=(16,), epochs=100, lr=1e-2, batch_size=20)
    assert next(net.parameters()).dtype == dtype
    assert accuracy(net(x_test).argmax(-1), y_test) > 0.95


def test_fit_classifier_redrawing_binary_levels_is_training_on_the_images(device, dtype):
    """Bernoulli(0 or 1) is the image itself, and the draws have a generator of their own, so the
    batches' order is unchanged: the two networks are equal. Grey levels give another network."""
    x, y = _two_blobs(40, device, dtype)
    fixed, redrawn = (fit_classifier(x, y, 2, hidden=(8,), epochs=5, lr=1e-2, batch_size=20, seed=3,
                                     init="he", levels=levels) for levels in (None, x.clone()))
    for a, b in zip(fixed.parameters(), redrawn.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    grey = fit_classifier(x, y, 2, hidden=(8,), epochs=5, lr=1e-2, batch_size=20, seed=3, init="he",
                          levels=torch.full_like(x, 0.5))
    assert not torch.equal(next(grey.parameters()), next(fixed.parameters()))


def test_fit_classifier_takes_he_init_and_refuses_bad_levels(device, dtype):
    x, y = _two_blobs(40, device, dtype)
    torch.manual_seed(0)
    he = fit_classifier(x, y, 2, hidden=(400,), epochs=1, lr=0.0, seed=0, init="he")   # lr 0: the init
    w = next(he.parameters())
    assert abs(w.std().item() / (2 / 12) ** 0.5 - 1) < 0.05       # N(0, 2 / fan_in), fan_in 12
    assert torch.count_nonzero(he[0].bias) == 0
    with pytest.raises(ValueError, match="levels must have the shape of x_l"):
        fit_classifier(x, y, 2, epochs=1, levels=x[:5])
    with pytest.raises(ValueError, match=r"levels must be grey levels in \[0, 1\]"):
        fit_classifier(x, y, 2, epochs=1, levels=x + 1)
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        fit_classifier(x, y, 2, epochs=1, init="glorot")


def test_m2_learns_to_classify_from_ten_labels_and_its_loss_falls(device, dtype):
    """Five labelled points per class beside 200 unlabelled ones."""
    x_u, y_u = _two_blobs(200, device, dtype)
    idx = labelled_subset(y_u, 5, seed=0)
    torch.manual_seed(0)
    model = SemiSupervisedVAE(12, 2, z_dim=2, hidden=(16,)).to(device=device, dtype=dtype)
    losses = fit_semi_supervised(model, x_u[idx], y_u[idx], x_u, epochs=30, alpha=10.0, batch_size=50, lr=1e-2)
    assert len(losses) == 30 and losses[-1] < losses[0] - 1.0
    x_test, y_test = _two_blobs(200, device, dtype, seed=1)
    assert accuracy(model.predict(x_test), y_test) > 0.9


def test_m2_training_refuses_bad_labels_and_mismatched_batches(device, dtype):
    x, y = _two_blobs(10, device, dtype)
    model = SemiSupervisedVAE(12, 2, z_dim=2, hidden=(8,)).to(device=device, dtype=dtype)
    with pytest.raises(ValueError, match=r"y_l must lie in 0..1, found 5 labels outside, e.g. 2"):
        fit_semi_supervised(model, x, y + 1, x, epochs=1, alpha=1.0)
    with pytest.raises(ValueError, match="-1"):
        fit_semi_supervised(model, x, torch.full_like(y, -1), x, epochs=1, alpha=1.0)
    with pytest.raises(ValueError, match=r"one label per image \(10 images\), got shape \(5,\)"):
        fit_semi_supervised(model, x, y[:5], x, epochs=1, alpha=1.0)
    with pytest.raises(ValueError, match="weighting must be 'means' or 'paper', got 'sums'"):
        fit_semi_supervised(model, x, y, x, epochs=1, alpha=1.0, weighting="sums")


def test_the_paper_weighting_weights_the_labelled_bound_by_the_labelled_share(device, dtype, monkeypatch):
    x_u, y_u = _two_blobs(40, device, dtype)
    idx = labelled_subset(y_u, 5, seed=0)
    model = SemiSupervisedVAE(12, 2, z_dim=2, hidden=(8,)).to(device=device, dtype=dtype)
    seen = []
    original = SemiSupervisedVAE.loss
    monkeypatch.setattr(SemiSupervisedVAE, "loss", lambda self, *a, **k: seen.append(k) or original(self, *a, **k))
    fit_semi_supervised(model, x_u[idx], y_u[idx], x_u, epochs=1, alpha=0.1, batch_size=20, weighting="paper")
    fit_semi_supervised(model, x_u[idx], y_u[idx], x_u, epochs=1, alpha=0.1, batch_size=20)
    assert [k["labelled_weight"] for k in seen] == [10 / 40] * 2 + [1.0] * 2


def test_accuracy_counts_equal_predictions_and_refuses_mismatched_shapes():
    assert accuracy(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2])) == 0.75
    with pytest.raises(ValueError, match="both be"):
        accuracy(torch.tensor([0, 1]), torch.tensor([0, 1, 2]))


def test_the_conditional_vae_trains_the_labelled_bound_and_leaves_the_classifier_alone(device, dtype):
    from dgmlib.semi_supervised import fit_conditional
    x, y = _two_blobs(100, device, dtype)
    torch.manual_seed(0)
    model = SemiSupervisedVAE(12, 2, z_dim=2, hidden=(16,)).to(device=device, dtype=dtype)
    classifier = {k: v.clone() for k, v in model.classifier.state_dict().items()}
    losses = fit_conditional(model, x, y, epochs=20, batch_size=25, lr=1e-2)
    assert losses[-1] < losses[0] - 1.0
    assert all(torch.equal(v, model.classifier.state_dict()[k]) for k, v in classifier.items())


def test_decode_means_at_the_posterior_mean_gives_the_labelled_bounds_reconstruction(device, dtype):
    """With eps = 0 the labelled bound is log p(x | y, mu) + log p(y) - KL: its first term is the
    Bernoulli log-likelihood of x under decode_means(mu, y)."""
    from dgmlib.distributions import kl_normal
    x, y = _two_blobs(8, device, dtype)
    torch.manual_seed(0)
    model = SemiSupervisedVAE(12, 2, z_dim=2, hidden=(16,)).to(device=device, dtype=dtype)
    with torch.no_grad():
        mu, logvar = model.encode(x, y)
        p = model.decode_means(mu, y)
        bound = model.labelled_elbo(x, y, eps=torch.zeros(1, 8, 2, dtype=dtype, device=device))
    recon = (x * p.log() + (1 - x) * (1 - p).log()).sum(-1)
    tol = 1e-9 if dtype == torch.float64 else 1e-4
    torch.testing.assert_close(bound, recon + model.log_prior_y() - kl_normal(mu, logvar), rtol=0, atol=tol)
    with pytest.raises(ValueError, match=r"z must be \[batch, 2\]"):
        model.decode_means(mu[:, :1], y)
