"""Differentiable spatial to numerical transform (DSNT, Nibali et al. 2018) and its losses.

Coordinates are normalised to [-1, 1] over the heatmap extent: -1 is the outer edge of the
first pixel, +1 the outer edge of the last, and pixel i has its centre at (2i + 1) / n - 1.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def spatial_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Softmax over the last two (H, W) dimensions."""
    shape = logits.shape
    flat = logits.reshape(*shape[:-2], shape[-2] * shape[-1])
    return F.softmax(flat.float(), dim=-1).reshape(shape).to(logits.dtype)


def normalized_axis(n: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """Pixel-centre coordinates of an axis of n pixels, in [-1, 1]."""
    return (2 * torch.arange(n, device=device, dtype=dtype) + 1) / n - 1


def dsnt(heatmap: torch.Tensor) -> torch.Tensor:
    """Return the expected (x, y) of a normalised heatmap (..., H, W) -> (..., 2)."""
    h, w = heatmap.shape[-2:]
    xs = normalized_axis(w, heatmap.device, heatmap.dtype)
    ys = normalized_axis(h, heatmap.device, heatmap.dtype)
    x = (heatmap.sum(-2) * xs).sum(-1)
    y = (heatmap.sum(-1) * ys).sum(-1)
    return torch.stack([x, y], dim=-1)


def gaussian_heatmap(coords: torch.Tensor, size: tuple[int, int], sigma: float) -> torch.Tensor:
    """Normalised isotropic Gaussians centred on coords (..., 2); sigma in normalised units."""
    h, w = size
    xs = normalized_axis(w, coords.device, coords.dtype)
    ys = normalized_axis(h, coords.device, coords.dtype)
    gx = torch.exp(-((xs - coords[..., :1]) ** 2) / (2 * sigma**2))
    gy = torch.exp(-((ys - coords[..., 1:]) ** 2) / (2 * sigma**2))
    g = gy.unsqueeze(-1) * gx.unsqueeze(-2)
    return g / g.sum(dim=(-2, -1), keepdim=True).clamp_min(1e-12)


def js_divergence(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Jensen-Shannon divergence between heatmaps (..., H, W) -> (...)."""
    m = 0.5 * (p + q)

    def kl(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return (a * (torch.log(a + eps) - torch.log(b + eps))).sum(dim=(-2, -1))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def euclidean_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-point Euclidean distance (..., 2) -> (...)."""
    return torch.linalg.vector_norm(pred - target, dim=-1)


def dsnt_loss(
    heatmap: torch.Tensor,
    target: torch.Tensor,
    sigma: float = 0.1,
    lam: float = 0.5,
) -> torch.Tensor:
    """Return the per-point loss lam * Euclidean + (1 - lam) * JS(heatmap || N(target, sigma^2)).

    It is the loss of Kapidis et al., "Multitask Learning to Improve Egocentric Action Recognition" (ICCV Workshops
    2019).
    """
    coords = dsnt(heatmap)
    prior = gaussian_heatmap(target, heatmap.shape[-2:], sigma)
    return lam * euclidean_loss(coords, target) + (1 - lam) * js_divergence(heatmap, prior)
