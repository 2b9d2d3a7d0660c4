OK_FORMAT = True

test = {   'name': 'q3',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> values = [cyclical_beta(t, 100, 0.5) for t in (0, 25, 50, 99, 100, 125, 250)]\n'
                                               '>>> assert all((isinstance(v, float) for v in values))\n'
                                               '>>> assert values == [0.0, 0.5, 1.0, 1.0, 0.0, 0.5, 1.0]\n',
                                       'hidden': False,
                                       'locked': False},
                                   {'code': '>>> assert abs(cyclical_beta(30, 40, 1.0) - 0.75) < 1e-12 and cyclical_beta(40, 40, 1.0) == 0.0\n', 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
