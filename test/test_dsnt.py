import torch

from mtl_hri.model.dsnt import dsnt, dsnt_loss, euclidean_loss, gaussian_heatmap, js_divergence, spatial_softmax


def one_hot(h, w, row, col):
    m = torch.zeros(h, w)
    m[row, col] = 1
    return m


def test_one_hot_heatmap_gives_pixel_centre():
    # pixel (row 2, col 5) of an 8x10 map: x = (2*5+1)/10 - 1 = 0.1, y = (2*2+1)/8 - 1 = -0.375
    xy = dsnt(one_hot(8, 10, 2, 5))
    assert torch.allclose(xy, torch.tensor([0.1, -0.375]))


def test_uniform_heatmap_gives_centre_and_mixture_gives_mean():
    assert torch.allclose(dsnt(torch.full((6, 6), 1 / 36)), torch.zeros(2), atol=1e-6)
    mix = 0.5 * one_hot(4, 4, 0, 0) + 0.5 * one_hot(4, 4, 3, 3)
    assert torch.allclose(dsnt(mix), torch.zeros(2), atol=1e-6)


def test_spatial_softmax_normalises_over_space_only():
    logits = torch.randn(2, 3, 5, 7)
    p = spatial_softmax(logits)
    assert torch.allclose(p.sum(dim=(-2, -1)), torch.ones(2, 3))
    big = torch.full((5, 7), -20.0)
    big[4, 6] = 20
    assert torch.allclose(dsnt(spatial_softmax(big)), torch.tensor([6 / 7, 0.8]), atol=1e-4)


def test_js_zero_for_matching_gaussian_positive_otherwise():
    target = torch.tensor([0.2, -0.3])
    g = gaussian_heatmap(target, (16, 16), sigma=0.15)
    assert js_divergence(g, g).abs() < 1e-6
    other = gaussian_heatmap(torch.tensor([-0.5, 0.5]), (16, 16), sigma=0.15)
    assert js_divergence(g, other) > 0.1


def test_euclidean_zero_for_one_hot_at_target_and_loss_combines():
    hm = one_hot(8, 8, 3, 4)
    target = dsnt(hm)
    assert euclidean_loss(dsnt(hm), target) == 0
    far = torch.tensor([-0.9, 0.9])
    assert dsnt_loss(hm, far) > dsnt_loss(hm, target)
