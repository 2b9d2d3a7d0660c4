OK_FORMAT = True

test = {   'name': 'q1',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> one, zero = (torch.ones(10, dtype=torch.float64), torch.zeros(10, dtype=torch.float64))\n'
                                               '>>> assert torch.allclose(kl_standard_normal(one, zero), torch.tensor(5.0, dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> out = kl_standard_normal(torch.zeros(3, 4, dtype=torch.float64), torch.zeros(3, 4, dtype=torch.float64))\n'
                                               '>>> assert out.shape == (3,) and torch.allclose(out, torch.zeros(3, dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
