import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import dgmlib  # noqa: E402
from dgmlib import plot  # noqa: E402


def test_image_grid_places_each_image_in_its_cell():
    images = torch.stack([torch.full((4,), float(i) / 10) for i in range(5)])  # 2x2 images
    grid = plot.image_grid(images, (2, 2), ncols=3, pad=1)
    assert grid.shape == (2 * 3 - 1, 3 * 3 - 1)
    assert np.allclose(grid[3:5, 3:5], 0.4)      # image 4: row 1, column 1
    assert np.allclose(grid[0:2, 6:8], 0.2)      # image 2: row 0, column 2
    assert np.all(grid[3:5, 6:8] == 0.0)      # empty cell stays blank (white)
    assert np.all(grid[2, :] == 0.0)          # separator row


def test_every_plot_has_a_title_and_axis_labels(digits):
    model = dgmlib.build_vae(64, 2, hidden=(16,))
    history = dgmlib.fit(model, digits, epochs=2, progress=False)
    axes = [plot.sample_grid(model.sample(20), digits.shape),
            plot.reconstructions(model, digits.test, digits.shape, n=6),
            plot.latent_scatter(model, digits.test, digits.test_labels),
            plot.training_curves(history)]
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel()
    assert axes[2].get_ylabel() and axes[3].get_ylabel()
    assert len(axes[3].lines) == 2  # train and validation
    plt.close("all")


class _Shift(torch.nn.Module):
    def __init__(self, shift):
        super().__init__()
        self.shift = torch.nn.Parameter(torch.tensor(shift))

    def forward(self, z):
        return z + self.shift, torch.zeros(z.shape[:-1])


def test_warped_grid_draws_one_panel_per_layer_and_moves_the_lines_with_the_flow():
    fig = plot.warped_grid([_Shift([1.0, 0.0]), _Shift([0.0, 2.0])], lim=1.0, lines=3)
    axes = fig.axes
    assert len(axes) == 3 and all(ax.get_title() and ax.get_xlabel() for ax in axes)
    assert all(len(ax.lines) == 6 for ax in axes)       # 3 horizontal + 3 vertical lines
    first = axes[0].lines[0].get_xydata()
    assert np.allclose(axes[1].lines[0].get_xydata(), first + [1.0, 0.0])
    assert np.allclose(axes[2].lines[0].get_xydata(), first + [1.0, 2.0])
    plt.close("all")


def test_warped_grid_accepts_the_book_flows():
    from dgmlib.flows import PlanarFlow, SylvesterFlow
    torch.manual_seed(0)
    fig = plot.warped_grid([PlanarFlow(2), SylvesterFlow(2, m=2, kind="orthogonal")])
    assert len(fig.axes) == 3 and fig._suptitle.get_text()
    plt.close("all")
