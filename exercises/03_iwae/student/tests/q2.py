OK_FORMAT = True

test = {   'name': 'q2',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> s = torch.tensor([1.0, 0.3, 0.5, 0.05, 0.0], dtype=torch.float64)\n'
                                               '>>> mu = 2.0 + torch.tensor([[1.0], [-1.0], [1.0], [-1.0]], dtype=torch.float64) * s\n'
                                               '>>> assert int(active_units(mu)) == 3\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> s = torch.tensor([1.0, 0.3, 0.5, 0.05, 0.0], dtype=torch.float64)\n'
                                               '>>> mu = 2.0 + torch.tensor([[1.0], [-1.0], [1.0], [-1.0]], dtype=torch.float64) * s\n'
                                               '>>> assert int(active_units(mu, threshold=0.2)) == 2\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
