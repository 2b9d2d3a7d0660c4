OK_FORMAT = True

test = {   'name': 'q1',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> mu, logvar = (torch.tensor([[-1.0], [1.0]], dtype=torch.float64), torch.zeros(2, 1, dtype=torch.float64))\n'
                                               '>>> out = log_aggregate_posterior(torch.tensor([[0.0], [1.0]], dtype=torch.float64), mu, logvar)\n'
                                               '>>> assert out.shape == (2,) and torch.allclose(out, torch.tensor([-1.4189385332046727, -1.4851577027216454], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> mu, logvar = (torch.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64))\n'
                                               '>>> out = log_aggregate_posterior(torch.tensor([[0.0, 2.0], [2.0, 0.0], [1.0, 1.0]], dtype=torch.float64), mu, logvar)\n'
                                               '>>> assert out.shape == (3,) and torch.allclose(out, torch.tensor([-2.0 - math.log(2 * math.pi)] * 2 + [-1.0 - math.log(2 * math.pi)], '
                                               'dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
