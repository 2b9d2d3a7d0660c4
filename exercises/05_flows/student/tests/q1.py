OK_FORMAT = True

test = {   'name': 'q1',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> out = planar_u_hat(torch.tensor([1.0, -2.0], dtype=torch.float64), torch.tensor([3.0, 4.0], dtype=torch.float64))\n'
                                               '>>> assert out.shape == (2,) and torch.allclose(out, torch.tensor([1.4808058418186942, -1.3589255442417412], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> u, w = (torch.tensor([2.0, 0.5, 1.0], dtype=torch.float64), torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))\n'
                                               '>>> out = planar_u_hat(u, w)\n'
                                               '>>> assert out.shape == (3,) and torch.allclose(out, torch.tensor([1.7338044259942509, 0.23380442599425083, 1.2661955740057491], '
                                               'dtype=torch.float64))\n'
                                               '>>> assert abs(float((w * out).sum()) - (-1.0 + math.log1p(math.exp(1.5)))) < 1e-12\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
