from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 10

@test_case(points=1, hidden=False)
def test_near_deterministic_conditionals(sample_top_down):
    """z_2 = z_3 + 10, z_1 = 2 z_2 (variance e^-40): the order of the layers and of the list."""
    import torch
    c1 = lambda z: (2 * z, torch.full_like(z, -40.0))
    c2 = lambda z: (z + 10, torch.full_like(z, -40.0))
    _ = torch.manual_seed(0)
    z1, z2, z3 = sample_top_down(500, [c1, c2], 2)
    assert z3.shape == (500, 2) and z3.dtype == torch.float64 and (abs(float(z3.mean())) < 0.15), 'the top layer is not N(0, I) [500, 2] float64'
    assert float((z2 - z3 - 10).abs().max()) < 1e-06 and float((z1 - 2 * z2).abs().max()) < 1e-06, 'the layers are not drawn in order, or the list is not bottom first'

@test_case(points=1, hidden=False)
def test_one_layer(sample_top_down):
    """One layer (no conditionals): a list holding one standard normal draw."""
    import torch
    _ = torch.manual_seed(1)
    out = sample_top_down(10000, [], 3)
    assert isinstance(out, list) and len(out) == 1 and (out[0].shape == (10000, 3)), 'expected a list of one [10000, 3] tensor'
    assert abs(float(out[0].mean())) < 0.05 and abs(float(out[0].var()) - 1) < 0.05, 'expected standard normal draws'

