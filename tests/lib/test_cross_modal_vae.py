"""The cross-modal VAE (dgmlib.models.cross_modal_vae): its bound against the terms computed by
hand, each likelihood against torch.distributions, the alternating schedule, and clear errors."""
import pytest
import torch

from dgmlib.distributions import kl_normal
from dgmlib.models.cross_modal_vae import CrossModalVAE, fit_cross_modal, fit_direct, prediction_error
from dgmlib.shapes import pose, render


@pytest.fixture
def model(device, dtype):
    torch.manual_seed(0)
    return CrossModalVAE({"img": (6, "bernoulli"), "pos": (3, "gaussian"), "cls": (4, "categorical")},
                         z_dim=2, hidden=(8,)).to(device=device, dtype=dtype)


@pytest.fixture
def batch(device, dtype):
    g = torch.Generator().manual_seed(1)
    return {"img": torch.randint(0, 2, (5, 6), generator=g).to(device=device, dtype=dtype),
            "pos": torch.randn(5, 3, generator=g).to(device=device, dtype=dtype),
            "cls": torch.randint(0, 4, (5,), generator=g).to(device)}


@pytest.mark.parametrize("target", ["img", "pos", "cls"])
def test_each_likelihood_matches_torch_distributions(model, batch, target):
    z = torch.randn(3, 5, 2, dtype=batch["img"].dtype, device=batch["img"].device)
    out = model.decoders[target](z)
    dist = {"img": lambda: torch.distributions.Bernoulli(logits=out),
            "pos": lambda: torch.distributions.Normal(out, model.log_sigma["pos"].exp()),
            "cls": lambda: torch.distributions.Categorical(logits=out)}[target]()
    expected = dist.log_prob(batch[target])
    expected = expected.sum(-1) if target != "cls" else expected
    torch.testing.assert_close(model.log_likelihood(target, batch[target], z), expected)


@pytest.mark.parametrize("source, target", [("img", "pos"), ("pos", "cls"), ("cls", "img"), ("img", "img")])
def test_the_bound_is_the_target_log_likelihood_at_source_draws_minus_the_source_kl(model, batch, source, target):
    torch.manual_seed(3)
    bound = model.bound(source, target, batch[source], batch[target], K=4)
    torch.manual_seed(3)
    mu, logvar = model.encode(source, batch[source])
    z = mu + (0.5 * logvar).exp() * torch.randn(4, *mu.shape, dtype=mu.dtype, device=mu.device)
    expected = model.log_likelihood(target, batch[target], z).mean(0) - kl_normal(mu, logvar)
    torch.testing.assert_close(bound, expected)


def test_the_schedule_alternates_every_pair_batch_by_batch_and_training_raises_the_bound(device, dtype):
    torch.manual_seed(0)
    pos = torch.rand(200, 2, dtype=dtype, device=device)
    img = (torch.rand(200, 6, dtype=dtype, device=device) < pos.repeat(1, 3)).to(dtype)
    model = CrossModalVAE({"img": (6, "bernoulli"), "pos": (2, "gaussian")}, z_dim=2, hidden=(16,)).to(device, dtype)
    assert model.pairs == [("img", "pos"), ("pos", "img"), ("img", "img"), ("pos", "pos")]
    history = fit_cross_modal(model, {"img": img, "pos": pos}, epochs=40, batch_size=25, lr=1e-2)
    assert list(history) == ["img->pos", "pos->img", "img->img", "pos->pos"]
    assert all(len(v) == 40 and v[-1] > v[0] for v in history.values())   # 8 batches: 2 per pair per epoch
    alone = fit_cross_modal(model, {"img": img, "pos": pos}, epochs=1, pairs=[("img", "img")])
    assert list(alone) == ["img->img"]


def test_direct_regressor_and_the_errors_are_the_usual_ones(device, dtype):
    x = torch.linspace(-1, 1, 64, dtype=dtype, device=device)[:, None]
    net = fit_direct(x, 3 * x, "gaussian", hidden=(16,), epochs=200, batch_size=16, lr=1e-2)
    assert prediction_error("gaussian", net(x), 3 * x).mean() < 0.1
    p = torch.tensor([[0.5, 0.25]], dtype=dtype)
    torch.testing.assert_close(prediction_error("bernoulli", p, torch.tensor([[1.0, 0.0]], dtype=dtype)),
                               -torch.log(torch.tensor([0.5 * 0.75], dtype=dtype)))
    torch.testing.assert_close(prediction_error("gaussian", torch.zeros(1, 2, dtype=dtype),
                                                torch.tensor([[3.0, 4.0]], dtype=dtype)),
                               torch.tensor([12.5 ** 0.5], dtype=dtype))
    assert prediction_error("categorical", torch.eye(3, dtype=dtype), torch.tensor([0, 2, 2])).tolist() == [0, 1, 0]


def test_pose_is_the_half_width_and_centre_in_pixels_and_the_centroid_agrees():
    factors = torch.tensor([[0, 0, 0, 7], [2, 2, 3, 1]])
    assert pose(factors, torch.float64).tolist() == [[2.0, 4.0, 11.0], [4.0, 7.0, 5.0]]
    from dgmlib.shapes import centroids
    torch.testing.assert_close(centroids(render(factors, torch.float64)), pose(factors, torch.float64)[:, 1:])


def test_bad_input_gives_clear_errors(model, batch):
    with pytest.raises(ValueError, match="paired row by row, got 5 and 4 rows"):
        model.bound("img", "pos", batch["img"], batch["pos"][:4])
    with pytest.raises(ValueError, match="unknown modality 'depth'; this model has img, pos, cls"):
        model.encode("depth", batch["img"])
    with pytest.raises(ValueError, match=r"modality .cls.: labels must lie in 0..3, found e.g. [4-7]"):
        model.encode("cls", batch["cls"] + 4)
    with pytest.raises(TypeError, match=r"modality 'cls' holds class indices: give an integer tensor .*float"):
        model.encode("cls", batch["cls"].to(batch["img"].dtype))
    with pytest.raises(ValueError, match=r"must be \[batch, 3\]"):
        model.encode("pos", batch["img"])
    with pytest.raises(ValueError, match="0 or 1"):
        model.encode("img", batch["img"] + 0.5)
    with pytest.raises(ValueError, match=r"paired row by row, got \{'img': 5, 'pos': 4, 'cls': 5\}"):
        fit_cross_modal(model, {"img": batch["img"], "pos": batch["pos"][:4], "cls": batch["cls"]}, epochs=1)
    with pytest.raises(ValueError, match="every modality"):
        fit_cross_modal(model, {"img": batch["img"], "pos": batch["pos"]}, epochs=1)
    with pytest.raises(ValueError, match="unknown likelihood 'poisson'"):
        CrossModalVAE({"a": (2, "poisson"), "b": (2, "gaussian")})
    with pytest.raises(ValueError, match="at least two modalities"):
        CrossModalVAE({"a": (2, "gaussian")})


@pytest.mark.parametrize("label_dtype", [torch.int64, torch.int32, torch.int16, torch.uint8])
def test_labels_of_any_integer_dtype_give_the_bound_of_int64_labels(model, batch, label_dtype):
    """As the source and as the target, and in the encoder's one-hot; the same noise gives the same bound."""
    labels = batch["cls"].to(label_dtype)
    for source, target, xs, xt in (("cls", "img", labels, batch["img"]), ("img", "cls", batch["img"], labels),
                                   ("cls", "img", batch["cls"], batch["img"]), ("img", "cls", batch["img"], batch["cls"])):
        torch.manual_seed(5)
        got = model.bound(source, target, xs, xt, K=2)
        torch.manual_seed(5)
        reference = model.bound(source, target, *(batch["cls"] if t is labels else t for t in (xs, xt)), K=2)
        assert torch.equal(got, reference) and torch.isfinite(got).all()
    assert torch.equal(model.predict("cls", "img", labels), model.predict("cls", "img", batch["cls"]))


@pytest.mark.parametrize("bad", [torch.float32, torch.float64, torch.bool])
def test_float_and_bool_labels_are_refused_by_name(model, batch, bad):
    for call in (lambda y: model.bound("cls", "img", y, batch["img"]), lambda y: model.bound("img", "cls", batch["img"], y),
                 lambda y: fit_cross_modal(model, {**batch, "cls": y}, epochs=1)):
        with pytest.raises(TypeError, match=rf"modality 'cls' holds class indices: give an integer tensor.*{bad}"):
            call(batch["cls"].to(bad))


def test_a_cross_modal_vae_checkpoint_loads_back_with_the_same_bounds(model, batch, tmp_path, dtype):
    import dgmlib
    dgmlib.save_checkpoint(tmp_path / "cm.pt", model)
    loaded, _ = dgmlib.load_checkpoint(tmp_path / "cm.pt", device=batch["img"].device)
    assert type(loaded) is CrossModalVAE and loaded.modalities == model.modalities
    assert next(loaded.parameters()).dtype == dtype
    model.eval()
    for source, target in model.pairs:
        torch.manual_seed(2)
        expected = model.bound(source, target, batch[source], batch[target], K=3)
        torch.manual_seed(2)
        assert torch.equal(loaded.bound(source, target, batch[source], batch[target], K=3), expected)
