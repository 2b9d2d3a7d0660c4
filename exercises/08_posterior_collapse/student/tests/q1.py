OK_FORMAT = True

test = {   'name': 'q1',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> mu = torch.tensor([[1.0, 0.05, 3.0], [-1.0, -0.05, 3.0], [1.0, 0.05, 3.0], [-1.0, -0.05, 3.0]], dtype=torch.float64)\n'
                                               '>>> assert active_units(mu) == 1 and isinstance(active_units(mu), int)\n'
                                               '>>> assert active_units(mu, threshold=0.001) == 2\n',
                                       'hidden': False,
                                       'locked': False},
                                   {'code': '>>> assert active_units(torch.full((5, 4), 0.3, dtype=torch.float64)) == 0\n', 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
