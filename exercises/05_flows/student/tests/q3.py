OK_FORMAT = True

test = {   'name': 'q3',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> v = torch.tensor([1.0, 2.0, -2.0], dtype=torch.float64)\n'
                                               '>>> out = householder(torch.tensor([[1.0, 0.0, 0.0], [0.5, 1.0, 2.0]], dtype=torch.float64), v)\n'
                                               '>>> assert out.shape == (2, 3) and torch.allclose(out, torch.tensor([[7 / 9, -4 / 9, 4 / 9], [5 / 6, 5 / 3, 4 / 3]], dtype=torch.float64))\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> v = torch.tensor([3.0, -1.0], dtype=torch.float64)\n'
                                               '>>> assert torch.allclose(householder(v, v), -v) and torch.allclose(householder(torch.tensor([1.0, 3.0], dtype=torch.float64), v), torch.tensor([1.0, '
                                               '3.0], dtype=torch.float64))\n'
                                               '>>> z = torch.tensor([[0.2, 1.5], [-2.0, 0.7]], dtype=torch.float64)\n'
                                               '>>> assert torch.allclose(householder(householder(z, v), v), z)\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
