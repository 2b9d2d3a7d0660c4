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
