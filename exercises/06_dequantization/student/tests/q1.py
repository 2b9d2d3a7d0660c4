OK_FORMAT = True

test = {   'name': 'q1',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> g = torch.Generator().manual_seed(0)\n'
                                               '>>> k = torch.randint(0, 17, (5, 64), generator=g).to(torch.float64)\n'
                                               '>>> u = torch.rand(3, 5, 64, generator=g, dtype=torch.float64)\n'
                                               '>>> out = dequantization_bound(lambda y: torch.zeros(y.shape[:-1], dtype=y.dtype), k, u, 17)\n'
                                               '>>> assert out.shape == (5,) and torch.allclose(out, torch.full((5,), -64 * math.log(17), dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> k, u = (torch.tensor([[1.0]], dtype=torch.float64), torch.tensor([[[0.5]]], dtype=torch.float64))\n'
                                               '>>> out = dequantization_bound(lambda y: torch.log(2 * y).sum(-1), k, u, 2)\n'
                                               '>>> assert out.shape == (1,) and abs(float(out[0]) - math.log(0.75)) < 1e-12\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
