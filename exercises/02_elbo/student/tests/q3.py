OK_FORMAT = True

test = {   'name': 'q3',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> x, logits = (torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64))\n'
                                               '>>> mu, logvar, z = (torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64), torch.ones(1, 1, dtype=torch.float64))\n'
                                               '>>> out = mc_elbo(x, logits, mu, logvar, z)\n'
                                               '>>> assert out.shape == (1,) and torch.allclose(out, torch.tensor([2 * math.log(0.5) - 0.5], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
