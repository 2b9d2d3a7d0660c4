"""Latent explorers: traversal grids decode the right codes, the widget builds and reacts,
the static fallback has one panel per model."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import dgmlib  # noqa: E402
from dgmlib import widgets as dw  # noqa: E402


@pytest.fixture
def models():
    out = {}
    for i, label in enumerate(("beta=1", "beta=4")):
        torch.manual_seed(i)
        out[label] = dgmlib.build_vae(16, 3, hidden=(8,))
    return out


@pytest.fixture
def x(dtype):
    return (torch.rand(20, 16, generator=torch.Generator().manual_seed(0)) > 0.5).to(dtype)


def test_traversal_grid_decodes_the_code_with_one_coordinate_replaced(models, dtype):
    model = models["beta=1"]
    z = torch.tensor([0.5, -1.0, 2.0], dtype=dtype)
    grid = dw.traversal_grid(model, z, dims=[2, 0], values=[-1.0, 3.0])
    assert grid.shape == (2, 2, 16)
    expected = model.likelihood.mean(model.decoder(torch.tensor([0.5, -1.0, 3.0], dtype=dtype)[None]))[0]
    assert torch.allclose(grid[0, 1], expected, atol=1e-6)
    expected = model.likelihood.mean(model.decoder(torch.tensor([-1.0, -1.0, 2.0], dtype=dtype)[None]))[0]
    assert torch.allclose(grid[1, 0], expected, atol=1e-6)


def test_latent_order_puts_the_dimension_with_the_largest_mean_variance_first(models, x):
    model = models["beta=1"]
    mu = model.encoder(x)[0]
    order = dw.latent_order(model, x)
    assert order[0].item() == mu.var(0).argmax().item() and sorted(order.tolist()) == [0, 1, 2]


def test_static_fallback_has_one_titled_panel_per_model(models, dtype):
    z = torch.zeros(3, dtype=dtype)
    panels = {k: dw.traversal_grid(m, z, [0, 1, 2], [-2, 0, 2]) for k, m in models.items()}
    fig = dw.static_traversals(panels, (4, 4), [-2, 0, 2], title="traversals")
    assert [ax.get_title() for ax in fig.axes] == ["beta=1", "beta=4"]
    assert len(fig.axes[0].get_yticks()) == 3 and len(fig.axes[0].get_xticks()) == 3
    image = fig.axes[0].get_images()[0].get_array()
    assert image.shape == (3 * 5 - 1, 3 * 5 - 1)
    plt.close(fig)


def test_explorer_builds_and_its_image_follows_the_sliders_and_the_model(models, x):
    pytest.importorskip("ipywidgets")
    box = dw.latent_explorer(models, (4, 4), x, sliders=2)
    assert len(box.sliders) == 2 and box.image.value[:4] == b"\x89PNG"
    before = box.image.value
    box.sliders[0].value = 3.0 if box.sliders[0].value != 3.0 else -3.0
    assert box.image.value != before
    moved = box.image.value
    box.model_selector.value = "beta=4"
    assert box.image.value != moved
    # the embedded widget state holds the picture (what a page without a kernel can show)
    import ipywidgets
    state = ipywidgets.Widget.get_manager_state()["state"]
    assert state[box.image.model_id]["model_name"] == "ImageModel"
    assert all(child.model_id in state for child in box.children)


def test_bad_input_raises(models, dtype):
    with pytest.raises(ValueError, match="one code"):
        dw.traversal_grid(models["beta=1"], torch.zeros(2, 3, dtype=dtype), [0], [0.0])
    with pytest.raises(ValueError, match="dims"):
        dw.traversal_grid(models["beta=1"], torch.zeros(3, dtype=dtype), [5], [0.0])
    with pytest.raises(ValueError, match="panel"):
        dw.static_traversals({}, (4, 4), [0.0])


def test_fallback_note_names_the_static_figure_and_carries_the_class_the_site_test_finds():
    from dgmlib.widgets import fallback_note
    html = fallback_note("the traversal figure")._repr_html_()
    assert 'class="widget-fallback"' in html and "the traversal figure" in html
