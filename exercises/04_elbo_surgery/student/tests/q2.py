OK_FORMAT = True

test = {   'name': 'q2',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> g = torch.Generator().manual_seed(0)\n'
                                               '>>> mu, logvar = (torch.full((6, 2), 0.5, dtype=torch.float64), torch.full((6, 2), -1.0, dtype=torch.float64))\n'
                                               '>>> z = mu + torch.exp(0.5 * logvar) * torch.randn(6, 2, generator=g, dtype=torch.float64)\n'
                                               '>>> out = mutual_information(z, mu, logvar)\n'
                                               '>>> assert out.shape == () and abs(float(out)) < 1e-10\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> mu = 50.0 * torch.arange(4, dtype=torch.float64).unsqueeze(1).expand(4, 3)\n'
                                               '>>> logvar = torch.zeros(4, 3, dtype=torch.float64)\n'
                                               '>>> out = mutual_information(mu.clone(), mu, logvar)\n'
                                               '>>> assert out.shape == () and abs(float(out) - math.log(4)) < 1e-08\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
