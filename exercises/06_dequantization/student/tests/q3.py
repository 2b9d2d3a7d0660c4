OK_FORMAT = True

test = {   'name': 'q3',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> x = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)\n'
                                               '>>> out = discretized_logistic_log_prob(x, torch.tensor(0.5, dtype=torch.float64), torch.tensor(math.log(0.25), dtype=torch.float64), 3)\n'
                                               '>>> assert out.shape == (3,) and torch.allclose(out.exp(), torch.tensor([0.2689414213699951, 0.46211715726000974, 0.2689414213699951], '
                                               'dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> x = torch.arange(17, dtype=torch.float64) / 16\n'
                                               '>>> out = discretized_logistic_log_prob(x, torch.tensor(0.3, dtype=torch.float64), torch.tensor(-2.0, dtype=torch.float64), 17)\n'
                                               '>>> assert out.shape == (17,) and abs(float(out.exp().sum()) - 1.0) < 1e-12\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
