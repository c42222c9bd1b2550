"""Parameter and FLOP counts.

FLOPs are torch's `FlopCounterMode` counts: a multiply-add is 2 FLOPs, and only matrix products and
convolutions count (not normalisation, activations, pooling or additions). Papers usually quote
multiply-adds as "FLOPs" (MFNet's 11.1 G, torchvision's video GFLOPS), so compare those with
`gmacs`. Modules and inputs on the meta device are counted without computing anything.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_flops(module: nn.Module, inputs: torch.Tensor | tuple[torch.Tensor, ...]) -> int:
    """FLOPs of one forward pass, a multiply-add counted as 2."""
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(*args)
    return counter.get_total_flops()


def gmacs(module: nn.Module, inputs: torch.Tensor | tuple[torch.Tensor, ...]) -> float:
    """Billions of multiply-adds of one forward pass (the papers' "GFLOPs")."""
    return count_flops(module, inputs) / 2e9
