"""`mtl-hri-train --config config/train/<name>.yaml [--resume] [--set key=value ...]`."""
from __future__ import annotations

import argparse

import yaml

from ..train.config import load_config
from ..train.trainer import train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train an mtl_hri model from a recipe YAML.")
    parser.add_argument("--config", required=True, help="training recipe (config/train/*.yaml)")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/last")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="override recipe values, e.g. epochs=5 arch.sharing=lws tasks=[gesture]")
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.set):
        parser.error(f"--set takes KEY=VALUE, got {[item for item in args.set if '=' not in item]}")
    overrides = {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.set)}
    try:
        cfg = load_config(args.config, overrides)
    except ValueError as exc:  # names the field and what is wrong with it
        parser.error(str(exc))
    out = train(cfg, resume=args.resume)
    print(f"run written to {out} (best model: {out / 'best'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
