OK_FORMAT = True

test = {   'name': 'q2',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> means, logvars = (torch.zeros(3, 2, dtype=torch.float64), torch.zeros(3, 2, dtype=torch.float64))\n'
                                               '>>> out = sample_mixture(5, means, logvars)\n'
                                               '>>> assert out.shape == (5, 2) and out.dtype == torch.float64\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> _ = torch.manual_seed(0)\n'
                                               '>>> means, logvars = (torch.tensor([[1.0, -2.0]], dtype=torch.float64), torch.log(torch.tensor([[4.0, 0.25]], dtype=torch.float64)))\n'
                                               '>>> z = sample_mixture(100000, means, logvars)\n'
                                               '>>> assert torch.allclose(z.mean(0), means[0], atol=0.03) and torch.allclose(z.var(0), logvars[0].exp(), rtol=0.03)\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
