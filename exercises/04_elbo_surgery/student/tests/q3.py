OK_FORMAT = True

test = {   'name': 'q3',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> mu = torch.tensor([[-2.0], [2.0]], dtype=torch.float64)\n'
                                               '>>> out = marginal_kl(mu.clone(), mu, torch.zeros(2, 1, dtype=torch.float64))\n'
                                               '>>> assert out.shape == () and abs(float(out) - 1.3071882258129504) < 1e-10\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> g = torch.Generator().manual_seed(0)\n'
                                               '>>> z = torch.randn(5, 3, generator=g, dtype=torch.float64)\n'
                                               '>>> out = marginal_kl(z, torch.zeros(5, 3, dtype=torch.float64), torch.zeros(5, 3, dtype=torch.float64))\n'
                                               '>>> assert out.shape == () and abs(float(out)) < 1e-10\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
