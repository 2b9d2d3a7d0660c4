OK_FORMAT = True

test = {   'name': 'q3',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': '>>> c1 = lambda z: (2 * z, torch.full_like(z, -40.0))\n'
                                               '>>> c2 = lambda z: (z + 10, torch.full_like(z, -40.0))\n'
                                               '>>> _ = torch.manual_seed(0)\n'
                                               '>>> z1, z2, z3 = sample_top_down(500, [c1, c2], 2)\n'
                                               '>>> assert z3.shape == (500, 2) and z3.dtype == torch.float64 and (abs(z3.mean().item()) < 0.15)\n'
                                               '>>> assert torch.allclose(z2, z3 + 10, atol=1e-06) and torch.allclose(z1, 2 * z2, atol=1e-06)\n',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> _ = torch.manual_seed(1)\n'
                                               '>>> out = sample_top_down(10000, [], 3)\n'
                                               '>>> assert isinstance(out, list) and len(out) == 1 and (out[0].shape == (10000, 3))\n'
                                               '>>> assert abs(out[0].mean().item()) < 0.05 and abs(out[0].var().item() - 1) < 0.05\n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
