OK_FORMAT = True

test = {   'name': 'q1',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> mu, logvar = merge(torch.tensor([0.0], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64), torch.tensor([2.0], dtype=torch.float64), '
                                               'torch.tensor([0.0], dtype=torch.float64))\n'
                                               '>>> assert torch.allclose(mu, torch.tensor([1.0], dtype=torch.float64)) and torch.allclose(logvar, torch.tensor([-math.log(2)], '
                                               'dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> mu, logvar = merge(torch.tensor([0.0], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64), torch.tensor([4.0], dtype=torch.float64), '
                                               'torch.tensor([math.log(3)], dtype=torch.float64))\n'
                                               '>>> assert torch.allclose(mu, torch.tensor([1.0], dtype=torch.float64)) and torch.allclose(logvar, torch.tensor([math.log(0.75)], '
                                               'dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
