"""Tests for dgmlib.flows: log-dets against autograd Jacobians, inverses, densities, numerics."""
import math

import pytest
import torch
from torch.autograd.functional import jacobian

from dgmlib.flows import autograd_log_det
from dgmlib.flows import (IAF, MADE, MAF, AffineCoupling, Compose, HouseholderFlow, PlanarFlow, Sigmoid,
                          RadialFlow, SylvesterFlow)

D, C = 3, 4  # size of z, size of the context of amortized flows


def close(actual, expected, tol, scale=10.0):
    torch.testing.assert_close(actual, expected, rtol=scale * tol, atol=scale * tol)


def _small_context_weights(flow, std=0.05):
    """Amortized flows: keep the per-example parameters near the bias we set."""
    if flow.params.net is not None:
        with torch.no_grad():
            flow.params.net.weight.normal_(0.0, std)


def planar(context_dim, wu):
    f = PlanarFlow(D, context_dim)
    w = torch.tensor([0.8, -0.5, 1.2])
    other = torch.tensor([0.5, 1.0, 0.1])
    other = other - (other @ w) / (w @ w) * w            # orthogonal to w
    f.params.set_("w", w)
    f.params.set_("u", wu * w / (w @ w) + other)
    f.params.set_("b", 0.3)
    _small_context_weights(f)
    return f


def radial(context_dim, beta_raw):
    f = RadialFlow(D, context_dim)
    f.params.set_("z0", torch.tensor([0.5, -1.0, 0.2]))
    f.params.set_("alpha", 0.5)
    f.params.set_("beta", beta_raw)
    _small_context_weights(f)
    return f


# name -> (builder(context_dim), input scale around the origin / z0)
CASES = {
    "planar_wu_positive": (lambda c: planar(c, 3.0), 1.0),
    "planar_wu_negative": (lambda c: planar(c, -3.0), 1.0),
    "radial_near_z0_contracting": (lambda c: radial(c, -2.0), 0.05),   # beta < 0, r << alpha
    "radial_far_from_z0_expanding": (lambda c: radial(c, 2.0), 5.0),   # beta > 0, r >> alpha
    "householder": (lambda c: HouseholderFlow(D, n=2, context_dim=c), 1.0),
    "sylvester_orthogonal": (lambda c: SylvesterFlow(D, m=2, kind="orthogonal", context_dim=c), 1.5),
    "sylvester_householder": (lambda c: SylvesterFlow(D, kind="householder", context_dim=c), 1.5),
    "sylvester_triangular": (lambda c: SylvesterFlow(D, kind="triangular", context_dim=c), 1.5),
    "sylvester_triangular_permuted": (
        lambda c: SylvesterFlow(D, kind="triangular", permute=True, context_dim=c), 1.5),
    "iaf_gate_open": (lambda c: IAF(D, (16,), c, order=[2, 0, 1], forget_bias=4.0), 1.0),
    "iaf_gate_closed": (lambda c: IAF(D, (16,), c, order=[2, 0, 1], forget_bias=-4.0), 1.0),
    "maf": (lambda c: MAF(D, (16,), c, order=[1, 2, 0]), 1.0),
    "coupling": (lambda c: AffineCoupling(D, [True, False, True], (16,), c), 1.0),
    "sigmoid": (lambda c: Sigmoid(D), 2.0),
    "sigmoid_with_margin": (lambda c: Sigmoid(D, alpha=0.05), 2.0),
}
INVERTIBLE = ["radial_near_z0_contracting", "radial_far_from_z0_expanding", "householder",
              "iaf_gate_open", "iaf_gate_closed", "maf", "coupling", "sigmoid", "sigmoid_with_margin"]
NOT_INVERTIBLE = {"planar": lambda c: PlanarFlow(D, c), "sylvester": lambda c: SylvesterFlow(D, context_dim=c)}


def build(name, amortized, device, seed=0):
    torch.manual_seed(seed)
    builder, scale = CASES[name]
    flow = builder(C if amortized else None).to(device)
    z = scale * torch.randn(3, D, device=device)
    if name.startswith("radial"):
        z = z + torch.tensor([0.5, -1.0, 0.2], device=device)
    context = torch.randn(3, C, device=device) if amortized else None
    return flow, z, context


@pytest.mark.parametrize("amortized", [False, True], ids=["free", "amortized"])
@pytest.mark.parametrize("name", list(CASES))
def test_log_det_matches_autograd_jacobian(name, amortized, device, tol):
    flow, z, context = build(name, amortized, device)
    _, log_det = flow(z, context)
    for b in range(z.shape[0]):
        ctx = None if context is None else context[b]
        J = jacobian(lambda x: flow(x, ctx)[0], z[b])
        sign, logabs = torch.linalg.slogdet(J)
        assert sign != 0
        close(log_det[b], logabs, tol)


@pytest.mark.parametrize("amortized", [False, True], ids=["free", "amortized"])
@pytest.mark.parametrize("name", INVERTIBLE)
def test_inverse_round_trips_with_broadcast_context(name, amortized, device, tol):
    flow, z, context = build(name, amortized, device)
    z = torch.stack([z, 0.5 * z])                          # [K=2, B=3, D]; context is [B, C]
    y, log_det = flow(z, context)
    assert y.shape == (2, 3, D) and log_det.shape == (2, 3)
    z_back, inv_log_det = flow.inverse(y, context)
    close(z_back, z, tol)
    close(inv_log_det, -log_det, tol)


@pytest.mark.parametrize("amortized", [False, True], ids=["free", "amortized"])
@pytest.mark.parametrize("name", list(NOT_INVERTIBLE))
def test_flows_without_closed_form_inverse_raise_not_implemented(name, amortized):
    flow = NOT_INVERTIBLE[name](C if amortized else None)
    with pytest.raises(NotImplementedError, match="no closed-form inverse"):
        flow.inverse(torch.zeros(2, D), torch.zeros(2, C) if amortized else None)


def test_composed_2d_flow_density_integrates_to_one(device):
    torch.manual_seed(1)
    flow = Compose(HouseholderFlow(2, n=2), RadialFlow(2),
                   AffineCoupling(2, [True, False], (16,)), MAF(2, (16,)),
                   AffineCoupling(2, [False, True], (16,))).to(device)
    n, half = 401, 12.0
    g = torch.linspace(-half, half, n, device=device)
    x = torch.stack(torch.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    with torch.no_grad():
        z, log_det = flow.inverse(x)
        log_p = -0.5 * (z ** 2).sum(-1) - math.log(2 * math.pi) + log_det
    mass = log_p.exp().sum() * (g[1] - g[0]) ** 2
    assert abs(mass.item() - 1.0) < 1e-2


@pytest.mark.parametrize("wu", [150.0, 1e4, -150.0, -1e4])
def test_planar_stays_finite_and_invertible_for_extreme_w_dot_u(wu, device):
    flow = planar(None, wu).to(device)
    z = torch.randn(64, D, device=device) * 3
    y, log_det = flow(z)
    (y.sum() + log_det.sum()).backward()
    assert torch.isfinite(y).all() and torch.isfinite(log_det).all()
    assert all(torch.isfinite(p.grad).all() for p in flow.parameters())
    p = flow.constrained()
    assert (p["w"] * p["u_hat"]).sum().item() >= -1 - 1e-3     # w^T u_hat >= -1


@pytest.mark.parametrize("amortized", [False, True], ids=["free", "amortized"])
def test_householder_product_is_orthogonal_and_volume_preserving(amortized, device, tol):
    torch.manual_seed(0)
    flow = HouseholderFlow(4, n=3, context_dim=C if amortized else None).to(device)
    z = torch.randn(4, device=device)
    ctx = torch.randn(C, device=device) if amortized else None
    J = jacobian(lambda x: flow(x, ctx)[0], z)
    close(J.T @ J, torch.eye(4, device=device), tol)
    assert flow(z, ctx)[1].item() == 0.0


@pytest.mark.parametrize("context_dim", [None, 2])
def test_made_jacobian_is_strictly_triangular_in_its_order(context_dim, device):
    torch.manual_seed(0)
    order = [3, 0, 4, 1, 2]
    made = MADE(5, hidden=(16, 16), outputs_per_dim=2, context_dim=context_dim, order=order).to(device)
    x = torch.randn(5, device=device)
    ctx = None if context_dim is None else torch.randn(context_dim, device=device)
    J = jacobian(lambda v: made(v, ctx), x)                 # [2, 5 outputs, 5 inputs]
    deg = torch.empty(5, dtype=torch.long)
    deg[order] = torch.arange(1, 6)
    allowed = (deg[None, :] < deg[:, None]).to(device)     # [output i, input j]: deg j < deg i
    assert (J[:, ~allowed] == 0).all()
    for i in range(5):                                       # and every allowed path is used
        if deg[i] > 1:
            assert (J[:, i, allowed[i]].abs().sum(-1) > 0).all()
    if context_dim is not None:                              # the first output sees the context
        Jc = jacobian(lambda c: made(x, c), ctx)
        assert Jc[:, order[0]].abs().sum() > 0


AMORTIZED = {
    "planar": lambda: PlanarFlow(D, C), "radial": lambda: RadialFlow(D, C),
    "householder": lambda: HouseholderFlow(D, 2, C),
    "sylvester_orthogonal": lambda: SylvesterFlow(D, 2, "orthogonal", context_dim=C),
    "sylvester_householder": lambda: SylvesterFlow(D, kind="householder", context_dim=C),
    "sylvester_triangular": lambda: SylvesterFlow(D, kind="triangular", context_dim=C),
    "iaf": lambda: IAF(D, (16,), C), "maf": lambda: MAF(D, (16,), C),
    "coupling": lambda: AffineCoupling(D, hidden=(16,), context_dim=C),
}


@pytest.mark.parametrize("name", list(AMORTIZED))
def test_amortized_flow_differs_across_contexts_and_agrees_for_equal_ones(name, device, tol):
    torch.manual_seed(0)
    flow = AMORTIZED[name]().to(device)
    c1, c2 = torch.randn(2, C, device=device)
    z = torch.randn(D, device=device).expand(3, D)
    y, log_det = flow(z, torch.stack([c1, c2, c1]))
    assert (y[0] - y[1]).abs().max() > 1e-3
    close(y[2], y[0], tol)
    close(log_det[2], log_det[0], tol)


def test_compose_sums_log_dets_and_inverts_in_reverse_order(device, tol):
    torch.manual_seed(0)
    f1, f2, f3 = RadialFlow(D), AffineCoupling(D, hidden=(8,)), HouseholderFlow(D, 2)
    flow = Compose(f1, f2, f3).to(device)
    z = torch.randn(5, D, device=device)
    y, log_det = flow(z)
    a, l1 = f1(z)
    b, l2 = f2(a)
    c, l3 = f3(b)
    close(y, c, tol)
    close(log_det, l1 + l2 + l3, tol)
    x, inv_log_det = flow.inverse(y)
    b_, m3 = f3.inverse(y)
    a_, m2 = f2.inverse(b_)
    z_, m1 = f1.inverse(a_)
    close(x, z_, tol)
    close(inv_log_det, m1 + m2 + m3, tol)
    close(x, z, tol)


@pytest.mark.parametrize("amortized", [False, True], ids=["free", "amortized"])
@pytest.mark.parametrize("kind,m,permute", [("orthogonal", 2, False), ("householder", 3, False),
                                             ("triangular", 4, True)])
def test_sylvester_q_has_orthonormal_columns(kind, m, permute, amortized, device, tol):
    torch.manual_seed(0)
    flow = SylvesterFlow(4, m, kind, permute=permute, context_dim=C if amortized else None).to(device)
    ctx = torch.randn(5, C, device=device) if amortized else None
    Q = flow.orthogonal_matrix(ctx)
    assert Q.shape == ((5, 4, m) if amortized else (4, m))
    close(Q.transpose(-1, -2) @ Q, torch.eye(m, device=device).expand_as(Q.transpose(-1, -2) @ Q), tol)


@pytest.mark.parametrize("amortized", [False, True], ids=["free", "amortized"])
@pytest.mark.parametrize("kind,m,permute", [("orthogonal", 2, False), ("householder", 3, False),
                                             ("householder", 4, False), ("triangular", 4, True)])
def test_sylvester_many_samples_per_data_point_give_what_each_sample_gives_alone(kind, m, permute, amortized,
                                                                                device, tol):
    # K = 12 samples of 5 data points: Householder's Q is then built as a matrix (the fast path of
    # importance sampling), one sample per data point runs the reflections one by one
    torch.manual_seed(0)
    flow = SylvesterFlow(4, m, kind, permute=permute, context_dim=C if amortized else None).to(device)
    ctx = torch.randn(5, C, device=device) if amortized else None
    z = torch.randn(12, 5, 4, device=device)
    y, log_det = flow(z, ctx)
    for k in range(12):
        for j in range(5):        # one sample of one data point: Householder reflects one by one
            y1, log_det1 = flow(z[k, j:j + 1], None if ctx is None else ctx[j:j + 1])
            close(y[k, j:j + 1], y1, tol)
            close(log_det[k, j:j + 1], log_det1, tol)
    assert (y - z).abs().max() > 0.1                    # the flow moves z: the comparison has teeth


@pytest.mark.parametrize("raw", [1e4, -1e4])
def test_sylvester_triangular_diagonal_constraint_holds_for_extreme_raw_parameters(raw, device):
    flow = SylvesterFlow(D, kind="triangular").to(device)
    flow.params.set_("r_diag", raw)
    flow.params.set_("rt_diag", -raw)                       # r_ii r~_ii as negative as it gets
    flow.params.set_("b", 0.0)
    R, Rt = flow.triangular()
    assert (torch.diagonal(R) * torch.diagonal(Rt) > -1).all()
    assert (torch.tril(R, -1) == 0).all() and (torch.tril(Rt, -1) == 0).all()
    y, log_det = flow(torch.zeros(2, D, device=device))     # tanh'(0) = 1: the tightest point
    assert torch.isfinite(y).all() and torch.isfinite(log_det).all()


def test_maf_inverse_is_the_one_pass_density_direction(device, tol):
    torch.manual_seed(0)
    flow = MAF(D, (16,), order=[2, 1, 0]).to(device)
    x = torch.randn(6, D, device=device)
    m, raw = flow.made(x).unbind(-2)
    s = 5.0 * torch.tanh(raw / 5.0)             # the soft-clamped log-scale
    z, log_det = flow.inverse(x)
    close(z, (x - m) * torch.exp(-s), tol)
    close(log_det, -s.sum(-1), tol)
    close(flow(z)[0], x, tol)                   # sampling: d passes


ALL = AMORTIZED


@pytest.mark.parametrize("name", list(ALL))
def test_bad_inputs_raise_clear_errors(name):
    flow = ALL[name]()
    with pytest.raises(ValueError, match="amortized"):
        flow(torch.zeros(2, D))                              # missing context
    with pytest.raises(ValueError, match=f"context \\[..., {C}\\]"):
        flow(torch.zeros(2, D), torch.zeros(2, C + 1))       # wrong context size
    with pytest.raises(ValueError, match=f"expected \\[..., {D}\\]"):
        flow(torch.zeros(2, D + 1), torch.zeros(2, C))       # wrong last dimension of z


def test_bad_constructor_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="m <= dim"):
        SylvesterFlow(3, m=4)
    with pytest.raises(ValueError, match="unknown Sylvester kind"):
        SylvesterFlow(3, kind="lower")
    with pytest.raises(ValueError, match="m = dim"):
        SylvesterFlow(3, m=2, kind="triangular")
    with pytest.raises(ValueError, match="mask must have 3"):
        AffineCoupling(3, mask=[True, False])
    with pytest.raises(ValueError, match="permutation"):
        MADE(3, order=[0, 0, 1])
    with pytest.raises(ValueError, match="at least one flow"):
        Compose()


def test_autograd_log_det_of_a_linear_map_is_log_abs_det_of_its_matrix():
    A = torch.tensor([[2.0, 1.0], [0.5, -3.0]], dtype=torch.float64)

    class Linear(torch.nn.Module):
        def forward(self, z, context=None):
            return z @ A.T, z.new_zeros(z.shape[:-1])

    log_det, J = autograd_log_det(Linear(), torch.randn(2, dtype=torch.float64))
    assert torch.allclose(J, A)
    assert log_det.item() == pytest.approx(math.log(6.5))


def test_sigmoid_maps_onto_the_unit_cube_and_the_logit_transform_back(tol):
    f = Sigmoid(2, alpha=0.05)
    y = torch.tensor([[0.0, 1.0], [0.5, 0.25]])
    z, inv_log_det = f.inverse(y)
    assert torch.allclose(z[0], torch.tensor([math.log(0.05 / 0.95), math.log(0.95 / 0.05)]), rtol=tol, atol=tol)
    # logit(alpha + (1 - 2 alpha) y): d/dy = (1 - 2 alpha) / (w (1 - w)), w = alpha + (1 - 2 alpha) y
    w = 0.05 + 0.9 * y
    assert torch.allclose(inv_log_det, (math.log(0.9) - torch.log(w * (1 - w))).sum(-1), rtol=tol, atol=tol)
    assert torch.allclose(f(z)[0], y, rtol=tol, atol=tol)


def test_sigmoid_log_det_is_finite_for_huge_inputs():
    f = Sigmoid(3)
    u, log_det = f(torch.tensor([[-200.0, 0.0, 200.0]]))
    assert torch.isfinite(log_det).all() and log_det.item() == pytest.approx(-400.0 - 2 * math.log(2), rel=1e-4)
    assert ((u >= 0) & (u <= 1)).all()
    with pytest.raises(ValueError, match="alpha"):
        Sigmoid(3, alpha=0.5)


def test_maf_log_scale_is_bounded_so_large_weights_stay_finite():
    torch.manual_seed(0)
    flow = MAF(3, (16,), scale_bound=5.0)
    with torch.no_grad():
        for p in flow.parameters():
            p.mul_(8.0)                                  # weights x8: unbounded scales overflowed to NaN
    x = 3 * torch.randn(64, 3)
    z, log_det = flow.inverse(x)
    assert torch.isfinite(z).all() and torch.isfinite(log_det).all()
    assert bool((log_det.abs() <= 3 * 5.0).all())        # |s_i| < b for each of the 3 dimensions
    back, _ = flow(z)
    assert torch.allclose(back, x, atol=1e-3 * x.abs().max().item())
    with pytest.raises(ValueError, match="scale_bound"):
        MAF(3, (16,), scale_bound=0.0)


def test_a_reflection_by_a_unit_vector_is_the_householder_matrix_and_a_zero_vector_reflects_nothing():
    from dgmlib.flows.householder import reflect, reflect_unit, unit_vectors

    torch.manual_seed(0)
    v, z = torch.randn(4, 5), torch.randn(4, 5)
    u = unit_vectors(v)
    assert torch.allclose(u.norm(dim=-1), torch.ones(4))
    H = torch.eye(5) - 2 * v[:, :, None] * v[:, None, :] / (v * v).sum(-1)[:, None, None]
    expected = (H @ z[:, :, None])[..., 0]                   # I - 2 v v^T / |v|^2, applied
    assert torch.allclose(reflect_unit(z, u), expected, atol=1e-6)
    assert torch.allclose(reflect(z, v), expected, atol=1e-6)
    zero = torch.zeros(5)
    assert torch.equal(unit_vectors(zero), zero) and torch.equal(reflect_unit(z, unit_vectors(zero)), z)
