import pytest
import torch
from torch import nn

from dgmlib import nets


def test_mlp_layer_sizes_and_activations():
    net = nets.mlp([4, 8, 8, 2], activation="tanh")
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(4, 8), (8, 8), (8, 2)]
    assert sum(isinstance(m, nn.Tanh) for m in net) == 2
    assert isinstance(net[-1], nn.Linear)  # no activation on the output


def test_mlp_rejects_bad_configs():
    with pytest.raises(ValueError, match="input and an output"):
        nets.mlp([4])
    with pytest.raises(ValueError, match="unknown activation"):
        nets.mlp([4, 2], activation="swishy")


def test_encoder_clamps_log_variance_and_checks_its_net():
    enc = nets.mlp_encoder(3, [5], 2)
    with torch.no_grad():
        enc.net[-1].bias.fill_(1e4)
    mu, logvar = enc(torch.zeros(1, 3))
    assert logvar.max().item() == nets.LOGVAR_MAX
    bad = nets.GaussianEncoder(nn.Linear(3, 3), z_dim=2)
    with pytest.raises(ValueError, match="2\\*z_dim"):
        bad(torch.zeros(1, 3))


def test_conv_encoder_rejects_non_mnist_sizes():
    with pytest.raises(ValueError, match="784"):
        nets.ConvEncoder28(2)(torch.zeros(1, 64))


def test_he_init_draws_every_layer_from_n_0_2_over_fan_in_with_zero_biases():
    torch.manual_seed(0)
    net = nets.mlp([784, 200, 40], "tanh", init="he")
    for layer, fan_in in ((net[0], 784), (net[2], 200)):
        w = layer.weight.detach()
        assert float(w.mean()) == pytest.approx(0.0, abs=4 * (2 / fan_in / w.numel()) ** 0.5)
        assert float(w.var()) == pytest.approx(2 / fan_in, rel=0.03)
        assert not layer.bias.detach().any()


def test_he_init_makes_a_tanh_network_see_its_input():
    """At 784 binary inputs PyTorch's default init leaves a tanh MLP's outputs nearly the same for
    every input; the He init spreads them several times more (seeded, so deterministic)."""
    x = (torch.rand(256, 784, generator=torch.Generator().manual_seed(1)) < 0.13).to(torch.get_default_dtype())
    spread = {}
    for init in ("torch", "he"):
        torch.manual_seed(0)
        with torch.no_grad():
            spread[init] = float(nets.mlp([784, 200, 200, 40], "tanh", init=init)(x).std(0).mean())
    assert spread["he"] > 3 * spread["torch"]


def test_unknown_init_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown init 'glorot'; choose one of torch, he"):
        nets.mlp([4, 2], init="glorot")
    import dgmlib
    with pytest.raises(ValueError, match="init='he' sets the MLP"):
        dgmlib.build_vae(784, 2, arch="conv", init="he")
    model = dgmlib.build_vae(8, 2, hidden=(4,), init="he")
    assert model.config["init"] == "he" and "init" not in dgmlib.build_vae(8, 2, hidden=(4,)).config
