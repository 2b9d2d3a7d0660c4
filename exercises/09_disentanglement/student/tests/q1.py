OK_FORMAT = True

test = {   'name': 'q1',
    'points': 3,
    'suites': [   {   'cases': [   {   'code': '>>> mu = torch.tensor([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]], dtype=torch.float64)\n'
                                               '>>> out = dip_vae_i_regularizer(mu, 1.0, 1.0)\n'
                                               '>>> assert out.shape == () and abs(float(out) - 6.0) < 1e-10\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> s = math.sqrt(2.0)\n'
                                               '>>> mu = torch.tensor([[s, s], [s, -s], [-s, s], [-s, -s]], dtype=torch.float64)\n'
                                               '>>> assert abs(float(dip_vae_i_regularizer(mu, 5.0, 3.0)) - 3.0 * 2.0) < 1e-10\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
