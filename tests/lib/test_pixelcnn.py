"""The PixelCNN decoder (dgmlib.models.pixelcnn): the autoregressive property and the receptive
field read off the autograd Jacobian, sampling against teacher forcing, and its use in a VAE."""
import pytest
import torch

import dgmlib
from dgmlib.distributions import bernoulli_log_prob
from dgmlib.models.pixelcnn import MaskedConv2d, PixelCNNDecoder, image_shape, receptive_field


def _jacobian(decoder, z, x):
    """d logit_i / d x_j for one image: [D, D]."""
    return torch.autograd.functional.jacobian(lambda v: decoder(z, v[None])[0], x)


@pytest.mark.parametrize("layers", [1, 3])
def test_each_logit_depends_only_on_earlier_pixels_in_raster_order(layers, dtype):
    torch.manual_seed(0)
    dec = PixelCNNDecoder((6, 6), z_dim=2, channels=4, layers=layers, kernel_size=3).to(dtype)
    J = _jacobian(dec, torch.randn(1, 2, dtype=dtype), torch.rand(36, dtype=dtype))
    assert torch.all(J.triu() == 0)                       # j >= i: no influence, the diagonal included
    assert (J.tril(-1) != 0).any()


@pytest.mark.parametrize("layers, kernel", [(1, 3), (2, 3), (2, 5)])
def test_the_receptive_field_grows_by_half_a_kernel_per_layer(layers, kernel, dtype):
    torch.manual_seed(0)
    H = W = 12
    dec = PixelCNNDecoder((H, W), z_dim=0, channels=4, layers=layers, kernel_size=kernel).to(dtype)
    J = _jacobian(dec, torch.zeros(1, 0, dtype=dtype), torch.rand(H * W, dtype=dtype))
    r = receptive_field(layers, kernel)
    i = 10 * W + 6                                        # a pixel far from the borders
    rows, cols = torch.nonzero(J[i].reshape(H, W), as_tuple=True)
    assert rows.min().item() == 10 - r                     # it sees exactly r rows up
    assert (cols.max() - 6).abs().item() <= r and (6 - cols.min()).abs().item() <= r


def test_the_mask_of_type_a_hides_the_centre_and_type_b_shows_it():
    a, b = MaskedConv2d("A", 1, 1, 3).mask[0, 0], MaskedConv2d("B", 1, 1, 3).mask[0, 0]
    assert a.tolist() == [[1, 1, 1], [1, 0, 0], [0, 0, 0]]
    assert b.tolist() == [[1, 1, 1], [1, 1, 0], [0, 0, 0]]
    with pytest.raises(ValueError, match="odd"):
        MaskedConv2d("A", 1, 1, 4)


def test_sampling_reports_the_log_probability_of_teacher_forcing(dtype):
    torch.manual_seed(0)
    dec = PixelCNNDecoder((4, 4), z_dim=3, channels=4, layers=2, kernel_size=3).to(dtype)
    z = torch.randn(2, 5, 3, dtype=dtype)                 # [K, B, d]
    x, log_prob = dec.sample(z, return_log_prob=True)
    assert x.shape == (2, 5, 16) and set(x.unique().tolist()) <= {0.0, 1.0}
    forced = bernoulli_log_prob(x, torch.stack([dec(z[k], x[k]) for k in range(2)]))
    torch.testing.assert_close(log_prob, forced)


def test_a_vae_with_the_pixelcnn_decoder_trains_and_its_bounds_are_ordered(dtype):
    torch.manual_seed(0)
    x = (torch.rand(40, 16) < 0.3).to(dtype)
    vae = dgmlib.build_vae(16, 2, hidden=(8,), decoder="pixelcnn", pixelcnn_layers=2,
                           pixelcnn_channels=4).to(dtype)
    history = dgmlib.fit(vae, x, epochs=5, batch_size=20, progress=False)
    assert history.train[-1] > history.train[0]
    with torch.no_grad():
        torch.manual_seed(1)
        e = dgmlib.elbo(vae, x, K=50).mean()
        torch.manual_seed(1)
        ll = dgmlib.iwae_bound(vae, x, K=50).mean()
    assert ll >= e
    assert vae.sample(3).shape == (3, 16)


def test_non_square_images_and_wrong_sizes_are_refused():
    assert image_shape(784) == (28, 28)
    with pytest.raises(ValueError, match="square"):
        dgmlib.build_vae(60, 2, decoder="pixelcnn")
    dec = PixelCNNDecoder((4, 4), z_dim=2)
    with pytest.raises(ValueError, match="decoder expects 16"):
        dec(torch.zeros(1, 2), torch.zeros(1, 9))
    with pytest.raises(ValueError, match="z_dim=2"):
        dec(torch.zeros(1, 3), torch.zeros(1, 16))
