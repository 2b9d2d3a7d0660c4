"""Tests for the image flows of dgmlib.flows: log-dets against autograd Jacobians on tiny images,
inverse round trips, identity at initialization, ActNorm's data-dependent init, the 1x1
convolution's H W log|det W|, and the multi-scale flow's density by a direct change of variables."""
import math

import pytest
import torch
from torch.autograd.functional import jacobian
from torch.nn import functional as F

from dgmlib.flows import (ActNorm, ConvAffineCoupling, FlowDistribution, InvertibleConv1x1, MultiScaleFlow,
                          Squeeze, Unsqueeze, channel_mask, checkerboard_mask, squeeze, unsqueeze)


def close(actual, expected, tol, scale=10.0):
    torch.testing.assert_close(actual, expected, rtol=scale * tol, atol=scale * tol)


@torch.no_grad()
def randomize(module, std=0.3):
    """Move every parameter away from its (identity) initial value."""
    for p in module.parameters():
        p.add_(std * torch.randn_like(p))
    return module


# name -> (builder, image shape (C, H, W), context channels or None)
LAYERS = {
    "coupling_checkerboard": (lambda: ConvAffineCoupling(1, "checkerboard", 0, hidden=4, blocks=1), (1, 4, 4), None),
    "coupling_checkerboard_odd": (lambda: ConvAffineCoupling(2, "checkerboard", 1, hidden=4, blocks=1), (2, 4, 4), None),
    "coupling_channel": (lambda: ConvAffineCoupling(2, "channel", 0, hidden=4, blocks=1), (2, 4, 4), None),
    "coupling_channel_odd": (lambda: ConvAffineCoupling(4, "channel", 1, hidden=4, blocks=2), (4, 2, 2), None),
    "coupling_conditional": (lambda: ConvAffineCoupling(1, "checkerboard", 0, hidden=4, blocks=1, context_channels=1),
                             (1, 4, 4), 1),
    "actnorm": (lambda: ActNorm(2), (2, 4, 4), None),
    "conv1x1_lu": (lambda: InvertibleConv1x1(2), (2, 4, 4), None),
    "conv1x1_plain": (lambda: InvertibleConv1x1(4, lu=False), (4, 2, 2), None),
    "squeeze": (lambda: Squeeze(), (1, 4, 4), None),
    "unsqueeze": (lambda: Unsqueeze(), (4, 2, 2), None),
}


def build(name, seed=0):
    torch.manual_seed(seed)
    make, shape, context_channels = LAYERS[name]
    layer = make()
    x = torch.randn(3, *shape)
    if isinstance(layer, ActNorm):
        layer.inverse(3.0 + 2.0 * x)               # the data-dependent init, then random values
    randomize(layer)
    context = None if context_channels is None else torch.randn(3, context_channels, *shape[1:])
    return layer, x, context


def image_log_det(layer, x, context, inverse=False):
    """log|det| of the layer's map at one image x [C, H, W] from the full autograd Jacobian."""
    step = layer.inverse if inverse else layer
    ctx = None if context is None else context[:1]
    J = jacobian(lambda v: step(v.reshape(1, *x.shape), ctx)[0].flatten(), x.flatten())
    return torch.linalg.slogdet(J).logabsdet


@pytest.mark.parametrize("name", list(LAYERS))
def test_image_layer_log_det_matches_the_autograd_jacobian_in_both_directions(name, tol):
    layer, x, context = build(name)
    y, log_det = layer(x, context)
    assert y.shape[0] == 3 and log_det.shape == (3,)
    close(log_det[0], image_log_det(layer, x[0], context), tol)
    back, inv_log_det = layer.inverse(y, context)
    close(inv_log_det[0], image_log_det(layer, y[0], context, inverse=True), tol)


@pytest.mark.parametrize("name", list(LAYERS))
def test_image_layer_inverse_undoes_forward_and_the_log_dets_cancel(name, tol):
    layer, x, context = build(name, seed=1)
    y, log_det = layer(x, context)
    back, inv_log_det = layer.inverse(y, context)
    close(back, x, tol)
    close(inv_log_det, -log_det, tol)


def test_random_couplings_are_not_the_identity_so_the_checks_above_can_fail():
    layer, x, _ = build("coupling_checkerboard")
    y, log_det = layer(x)
    assert (y - x).abs().max() > 1e-2 and log_det.abs().min() > 1e-3
    b = checkerboard_mask(4, 4)
    assert torch.equal(y * b, x * b)                # the kept half passes unchanged


@pytest.mark.parametrize("mask, channels", [("checkerboard", 1), ("channel", 4)])
def test_a_fresh_coupling_is_the_identity(mask, channels):
    torch.manual_seed(0)
    layer = ConvAffineCoupling(channels, mask, hidden=4, context_channels=2)
    x, ctx = torch.randn(2, channels, 4, 4), torch.randn(2, 2, 4, 4)
    y, log_det = layer(x, ctx)
    assert torch.equal(y, x) and torch.equal(log_det, torch.zeros(2))


def test_the_coupling_log_scale_is_bounded_by_its_learned_bound(tol):
    torch.manual_seed(0)
    layer = randomize(ConvAffineCoupling(1, hidden=4), std=30.0)      # saturate the tanh
    with torch.no_grad():
        layer.log_bound.fill_(math.log(0.5))
    x = torch.randn(4, 1, 4, 4)
    y, log_det = layer(x)
    b = checkerboard_mask(4, 4)
    s, t = layer._scale_shift(x * b, 1 - b, None)
    assert s.abs().max() <= 0.5 and s.abs().max() > 0.45            # bound reached, never passed
    close(y, x * s.exp() + t, tol)
    close(log_det, s.sum((1, 2, 3)), tol)


def test_masks_are_a_checkerboard_and_a_channel_half():
    assert checkerboard_mask(2, 3).flatten().tolist() == [1, 0, 1, 0, 1, 0]
    assert torch.equal(checkerboard_mask(4, 4, 1), 1 - checkerboard_mask(4, 4))
    assert checkerboard_mask(4, 4).sum() == 8
    assert channel_mask(4).flatten().tolist() == [1, 1, 0, 0]
    assert channel_mask(4, 1).flatten().tolist() == [0, 0, 1, 1]
    assert checkerboard_mask(2, 2, dtype=torch.float64).dtype == torch.float64


def test_squeeze_is_pixel_unshuffle_and_unsqueeze_its_inverse():
    x = torch.randn(2, 3, 4, 6)
    assert torch.equal(squeeze(x), F.pixel_unshuffle(x, 2))
    assert squeeze(x).shape == (2, 12, 2, 3)
    assert torch.equal(unsqueeze(squeeze(x)), x) and torch.equal(unsqueeze(x[:, :0]), x[:, :0].reshape(2, 0, 8, 12))
    one = torch.arange(4.0).reshape(1, 1, 2, 2)                       # the 2x2 patch becomes 4 channels
    assert squeeze(one).flatten().tolist() == [0.0, 1.0, 2.0, 3.0]


def test_actnorm_initializes_from_the_first_batch_in_the_density_direction_only_once():
    torch.manual_seed(0)
    norm = ActNorm(3)
    y = torch.tensor([1.0, -2.0, 5.0]).reshape(1, 3, 1, 1) + torch.tensor([0.5, 2.0, 3.0]).reshape(1, 3, 1, 1) \
        * torch.randn(64, 3, 4, 4)
    z, log_det = norm.inverse(y)
    close(z.mean((0, 2, 3)), torch.zeros(3), 1e-5)
    close(z.std((0, 2, 3), unbiased=False), torch.ones(3), 1e-5)
    std = y.std((0, 2, 3), unbiased=False)
    close(log_det, -16 * std.log().sum().expand(64), 1e-5)
    assert bool(norm.initialized) and "initialized" in norm.state_dict()
    before = norm.bias.detach().clone()
    norm.inverse(y + 10.0)
    assert torch.equal(norm.bias, before)                             # no second initialization


def test_actnorm_initialized_in_the_sampling_direction_standardizes_its_output():
    torch.manual_seed(0)
    norm = ActNorm(2)
    y, _ = norm(3.0 + 0.5 * torch.randn(50, 2, 3, 3))
    close(y.mean((0, 2, 3)), torch.zeros(2), 1e-5)
    close(y.std((0, 2, 3), unbiased=False), torch.ones(2), 1e-5)


@pytest.mark.parametrize("lu", [True, False])
def test_conv1x1_log_det_is_height_times_width_times_slogdet_of_the_kernel(lu, tol):
    torch.manual_seed(0)
    conv = randomize(InvertibleConv1x1(4, lu=lu))
    z = torch.randn(2, 4, 3, 5)
    y, log_det = conv(z)
    W = conv.matrix()
    close(log_det, (15 * torch.linalg.slogdet(W).logabsdet).expand(2), tol)
    close(y, F.conv2d(z, W[:, :, None, None]), tol)
    assert torch.linalg.slogdet(W).logabsdet.abs() > 1e-2            # not a rotation any more


def test_a_fresh_conv1x1_is_a_rotation():
    torch.manual_seed(0)
    W = InvertibleConv1x1(5).matrix()
    close(W @ W.T, torch.eye(5), 1e-5)


def _multiscale(context_channels=None, shape=(1, 4, 4), scales=3, seed=0, **kw):
    torch.manual_seed(seed)
    options = dict(couplings=2, hidden=4, blocks=1, context_channels=context_channels)
    flow = MultiScaleFlow(shape, scales, **{**options, **kw})
    x = torch.randn(3, math.prod(shape))
    context = None if context_channels is None else torch.randn(3, context_channels * math.prod(shape[1:]))
    flow.inverse(x, context)                                          # ActNorm's init
    return randomize(flow, std=0.2), x


@pytest.mark.parametrize("shape, scales", [((1, 4, 4), 3), ((2, 4, 4), 3), ((2, 4, 4), 2), ((1, 4, 4), 1)])
def test_multiscale_log_density_is_the_change_of_variables_of_the_whole_map(shape, scales, tol):
    flow, x = _multiscale(shape=shape, scales=scales)
    x = x.reshape(3, *shape)
    log_p = flow.log_prob(x)
    for i in range(2):
        flat = x[i].flatten()
        J = jacobian(lambda v: flow.inverse(v)[0], flat)                # the whole map x -> z
        z = flow.inverse(flat)[0]
        direct = -0.5 * (z ** 2).sum() - 0.5 * z.numel() * math.log(2 * math.pi) + torch.linalg.slogdet(J).logabsdet
        close(log_p[i], direct, tol)
    assert torch.allclose(FlowDistribution(flow, flow.dim).log_prob(x.reshape(3, -1)), log_p)


def test_multiscale_forward_log_det_matches_the_jacobian_and_inverse_round_trips(tol):
    flow, x = _multiscale(context_channels=1)
    ctx = torch.randn(3, 16)
    z, log_det = flow(x, ctx)
    J = jacobian(lambda v: flow(v, ctx[0])[0], x[0])
    close(log_det[0], torch.linalg.slogdet(J).logabsdet, tol)
    back, inv_log_det = flow.inverse(z, ctx)
    close(back, x, tol)
    close(inv_log_det, -log_det, tol)


def test_multiscale_flow_broadcasts_leading_dimensions_with_its_context(tol):
    flow, _ = _multiscale(context_channels=1)
    z, ctx = torch.randn(4, 3, 16), torch.randn(3, 16)
    x, log_det = flow(z, ctx)
    assert x.shape == (4, 3, 16) and log_det.shape == (4, 3)
    for k in range(4):
        xk, ldk = flow(z[k], ctx)
        close(x[k], xk, tol)
        close(log_det[k], ldk, tol)


def test_the_multiscale_split_factors_out_half_the_channels_of_each_intermediate_scale():
    flow = MultiScaleFlow((1, 8, 8), scales=3, couplings=1, hidden=4, blocks=1)
    assert flow.factored == [(0, 8, 8), (2, 4, 4), (0, 2, 2)] and flow.top == (8, 2, 2)
    assert 2 * 4 * 4 + 8 * 2 * 2 == flow.dim == 64


def test_a_fresh_multiscale_flow_of_couplings_only_permutes_its_input():
    torch.manual_seed(0)
    flow = MultiScaleFlow((1, 4, 4), scales=3, couplings=2, hidden=4, actnorm=False, conv1x1=False)
    x = torch.randn(16)
    z, log_det = flow.inverse(x)
    J = jacobian(lambda v: flow.inverse(v)[0], x)
    assert torch.equal(log_det, torch.zeros(()))
    assert torch.equal(J.sum(0), torch.ones(16)) and torch.equal(J.sum(1), torch.ones(16))
    assert set(J.unique().tolist()) == {0.0, 1.0}
    # the split parts come first: after the first squeeze, channels 2, 3 = the odd columns
    expected = torch.cat([squeeze(x.reshape(1, 1, 4, 4))[:, 2:].flatten(),
                          squeeze(squeeze(x.reshape(1, 1, 4, 4))[:, :2]).flatten()])
    assert torch.equal(z, expected)
    one = MultiScaleFlow((1, 4, 4), scales=1, couplings=2, hidden=4, actnorm=False)
    y = torch.randn(5, 16)
    assert torch.equal(one(y)[0], y) and torch.equal(one(y)[1], torch.zeros(5))


def test_multiscale_samples_are_images_in_the_parameters_dtype():
    flow, _ = _multiscale()
    images = flow.sample(3)
    assert images.shape == (3, 1, 4, 4) and images.dtype == next(flow.parameters()).dtype
    assert torch.isfinite(flow.log_prob(images)).all()


def test_image_flows_reject_bad_shapes_with_clear_errors():
    with pytest.raises(ValueError, match=r"images \[B, 2, H, W\]"):
        ConvAffineCoupling(2)(torch.randn(3, 2, 4))
    with pytest.raises(ValueError, match="mask must be one of"):
        ConvAffineCoupling(2, "stripes")
    with pytest.raises(ValueError, match="at least 2 channels"):
        ConvAffineCoupling(1, "channel")
    with pytest.raises(ValueError, match="conditional"):
        ConvAffineCoupling(1, context_channels=1)(torch.randn(2, 1, 4, 4))
    with pytest.raises(ValueError, match="even height and width"):
        squeeze(torch.randn(1, 1, 3, 4))
    with pytest.raises(ValueError, match="divisible by 4"):
        MultiScaleFlow((1, 6, 6), scales=3)
    with pytest.raises(ValueError, match="one per scale"):
        MultiScaleFlow((1, 8, 8), scales=3, couplings=(2, 2))
    with pytest.raises(ValueError, match=r"\[\.\.\., 16\]"):
        MultiScaleFlow((1, 4, 4), scales=2, hidden=4)(torch.randn(2, 15))
    with pytest.raises(ValueError, match=r"images \[N, 1, 4, 4\]"):
        MultiScaleFlow((1, 4, 4), scales=2, hidden=4).log_prob(torch.randn(2, 1, 4, 2))
    with pytest.raises(ValueError, match="context"):
        MultiScaleFlow((1, 4, 4), scales=2, hidden=4, context_channels=1)(torch.randn(2, 16))


def test_actnorm_reads_its_initialization_flag_from_a_loaded_state():
    torch.manual_seed(0)
    y, other = 2.0 + 3.0 * torch.randn(32, 2, 3, 3), torch.randn(8, 2, 3, 3)
    trained = ActNorm(2)
    trained.inverse(y)
    copy = ActNorm(2)
    copy.load_state_dict(trained.state_dict())
    assert torch.equal(copy.inverse(other)[0], trained.inverse(other)[0])     # no init from `other`
    trained.load_state_dict(ActNorm(2).state_dict())                          # back to a fresh state
    z, _ = trained.inverse(other)
    close(z.mean((0, 2, 3)), torch.zeros(2), 1e-5)                           # initialized from `other`
