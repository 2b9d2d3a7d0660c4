import math

import pytest
import torch
from torch import nn

from dgmlib import energies


def test_energies_golden_values():
    z = torch.tensor([[2.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    # U1 at (2, 0): on the ring, at one mode centre; the other mode adds exp(-0.5 (4/0.6)^2)
    assert energies.u1(z[:1]).item() == pytest.approx(-math.log1p(math.exp(-0.5 * (4 / 0.6) ** 2)), abs=1e-6)
    assert energies.u2(z[1:2]).item() == pytest.approx(0.0, abs=1e-7)   # z2 = w1(0) = 0
    assert energies.u2(z[2:]).item() == pytest.approx(0.0, abs=1e-6)    # w1(1) = sin(pi/2) = 1
    # U3 at (1, 1): the first wave passes through it, the second sits 3 below
    expected = -math.log(1 + math.exp(-0.5 * (3 / 0.35) ** 2))
    assert energies.u3(z[2:]).item() == pytest.approx(expected, abs=1e-6)


def test_wall_is_zero_inside_the_box_and_steep_outside():
    inside, outside = torch.tensor([[3.9, -3.9]]), torch.tensor([[4.5, 0.0]])
    for u in energies.ENERGIES.values():
        assert energies._wall(inside).item() == 0.0
        assert (u(outside) - u(torch.tensor([[4.0, 0.0]]))).item() > 10


class Affine(nn.Module):
    def __init__(self, scale, shift):
        super().__init__()
        self.log_scale = nn.Parameter(torch.log(torch.as_tensor(scale, dtype=torch.get_default_dtype())))
        self.shift = nn.Parameter(torch.as_tensor(shift, dtype=torch.get_default_dtype()))

    def forward(self, z, context=None):
        return z * self.log_scale.exp() + self.shift, self.log_scale.sum().expand(z.shape[:-1])


@pytest.mark.parametrize("name", sorted(energies.ENERGIES))
def test_log_normalizer_matches_importance_sampling(name):
    u = energies.ENERGIES[name]
    torch.manual_seed(0)
    half = 4.6                       # the box and the wall's tail (6 wall widths)
    q = torch.distributions.Uniform(-half * torch.ones(2, dtype=torch.float64), half * torch.ones(2, dtype=torch.float64))
    z = q.sample((400_000,))
    w = -u(z) + math.log((2 * half) ** 2)
    est = torch.logsumexp(w, 0).item() - math.log(len(z))
    assert energies.log_normalizer(u) == pytest.approx(est, abs=0.02)


def test_reverse_kl_is_nonnegative_and_zero_for_the_exact_gaussian(tol):
    mean, sd = torch.tensor([0.5, -1.0]), torch.tensor([0.7, 0.3])

    def gaussian_energy(z):
        return 0.5 * (((z - mean) / sd) ** 2).sum(-1)

    log_z = math.log(2 * math.pi) + torch.log(sd).sum().item()
    torch.manual_seed(0)
    exact, _ = energies.free_energy(Affine(sd, mean), gaussian_energy)
    assert exact + log_z == pytest.approx(0.0, abs=10 * tol)        # q = p: KL = 0 for every sample
    off, se = energies.free_energy(Affine([1.0, 1.0], [0.0, 0.0]), gaussian_energy, n=20_000)
    assert off + log_z > 5 * se


def test_fit_flow_lowers_the_free_energy_to_the_optimum():
    def gaussian_energy(z):
        return 0.5 * (((z - torch.tensor([1.0, 0.0])) / 0.5) ** 2).sum(-1)

    flow = Affine([1.0, 1.0], [0.0, 0.0])
    history = energies.fit_flow(flow, gaussian_energy, steps=600, batch=256, lr=0.03, seed=0)
    log_z = math.log(2 * math.pi * 0.25)
    assert history[-1] < history[0]
    torch.manual_seed(1)
    kl = energies.free_energy(flow, gaussian_energy, n=20_000)[0] + log_z
    assert 0 <= kl + 0.01 and kl < 0.02
