from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 10

@test_case(points=1, hidden=False)
def test_binary_images_with_the_right_pixel_means(sample_mixture_of_bernoullis):
    """One component with theta = (0.9, 0.5, 0.1): 20000 images [20000, 3] of 0s and 1s with those pixel means."""
    import math
    import torch
    _ = torch.manual_seed(0)
    theta = torch.tensor([0.9, 0.5, 0.1], dtype=torch.float64)
    x = sample_mixture_of_bernoullis(20000, torch.zeros(1, dtype=torch.float64), torch.logit(theta)[None])
    assert x.shape == (20000, 3) and x.dtype == torch.float64, 'expected a [20000, 3] tensor of float64'
    assert bool(((x == 0) | (x == 1)).all()), 'expected pixels equal to 0 or 1'
    assert float((x.mean(0) - theta).abs().max()) < 0.02, 'wrong pixel means'

@test_case(points=1, hidden=False)
def test_an_image_takes_one_component(sample_mixture_of_bernoullis):
    """Components 'all on' and 'all off' with weights 0.3 and 0.7: every image is all ones or all zeros, 30% all ones."""
    import math
    import torch
    _ = torch.manual_seed(1)
    log_pi = torch.log(torch.tensor([0.3, 0.7], dtype=torch.float64))
    x = sample_mixture_of_bernoullis(10000, log_pi, torch.tensor([[30.0] * 4, [-30.0] * 4], dtype=torch.float64))
    on = x.sum(1)
    assert bool(((on == 0) | (on == 4)).all()), 'the pixels of an image come from different components'
    assert abs(float((on == 4).double().mean()) - 0.3) < 0.03, 'the components are not drawn with the weights pi'

