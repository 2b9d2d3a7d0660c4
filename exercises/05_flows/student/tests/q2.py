OK_FORMAT = True

test = {   'name': 'q2',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> z = torch.tensor([[0.5, -1.0], [0.0, 0.0], [2.0, 1.0]], dtype=torch.float64)\n'
                                               '>>> y, log_det = planar_forward(z, torch.tensor([1.0, 0.5], dtype=torch.float64), torch.tensor([1.0, -0.5], dtype=torch.float64), torch.tensor(0.25, '
                                               'dtype=torch.float64))\n'
                                               '>>> assert y.shape == (3, 2) and torch.allclose(y, torch.tensor([[1.3482836399575129, -0.5758581800212436], [0.24491866240370913, '
                                               '0.12245933120185457], [2.9413755384972875, 1.4706877692486438]], dtype=torch.float64))\n'
                                               '>>> assert log_det.shape == (3,) and torch.allclose(log_det, torch.tensor([0.1908774750105975, 0.5335716424471593, 0.08191087384628495], '
                                               'dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> y, log_det = planar_forward(torch.zeros(2, dtype=torch.float64), torch.tensor([-3.0, 0.0], dtype=torch.float64), torch.tensor([1.0, 0.0], '
                                               'dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64))\n'
                                               '>>> assert y.shape == (2,) and torch.allclose(y, torch.zeros(2, dtype=torch.float64))\n'
                                               '>>> assert log_det.shape == () and abs(float(log_det) - math.log(2)) < 1e-12\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
