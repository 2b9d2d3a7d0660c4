OK_FORMAT = True

test = {   'name': 'q1',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> split = lambda u: (u[:, :1], u[:, 1:])\n'
                                               '>>> u = torch.tensor([[-1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)\n'
                                               '>>> out = vampprior_log_prob(torch.tensor([[0.0], [1.0]], dtype=torch.float64), split, u)\n'
                                               '>>> assert out.shape == (2,) and torch.allclose(out, torch.tensor([-1.4189385332046727, -1.4851577027216454], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> split = lambda u: (u[:, :2], u[:, 2:])\n'
                                               '>>> u = torch.tensor([[0.5, -1.0, 0.3, -0.2]], dtype=torch.float64)\n'
                                               '>>> z = torch.tensor([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5]], dtype=torch.float64)\n'
                                               '>>> assert torch.allclose(vampprior_log_prob(z, split, u), log_normal(z, u[:, :2], u[:, 2:]))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
