OK_FORMAT = True

test = {   'name': 'q3',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> mu, logvar = (torch.tensor([[0.5, -1.0]], dtype=torch.float64), torch.tensor([[0.2, -0.3]], dtype=torch.float64))\n'
                                               '>>> out = mc_kl_to_mixture(mu, logvar, mu.clone(), logvar.clone(), samples=10)\n'
                                               '>>> assert out.shape == (1,) and abs(float(out[0])) < 1e-10\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> means = 50.0 * torch.arange(4, dtype=torch.float64).unsqueeze(1).expand(4, 3)\n'
                                               '>>> logvars = torch.zeros(4, 3, dtype=torch.float64)\n'
                                               '>>> out = mc_kl_to_mixture(means[1:3], logvars[1:3], means, logvars, samples=10)\n'
                                               '>>> assert out.shape == (2,) and torch.allclose(out, torch.full((2,), math.log(4), dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
