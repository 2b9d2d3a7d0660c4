OK_FORMAT = True

test = {   'name': 'q2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> mu, logvar, eps = (torch.ones(3, dtype=torch.float64), torch.full((3,), math.log(4.0), dtype=torch.float64), torch.ones(3, dtype=torch.float64))\n'
                                               '>>> z = reparameterize(mu, logvar, eps)\n'
                                               '>>> assert z.shape == (3,) and torch.allclose(z, torch.full((3,), 3.0, dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
