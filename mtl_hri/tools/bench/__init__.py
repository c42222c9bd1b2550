"""`mtl-hri-bench`: measured speed, printed as a table and written as JSON.

    mtl-hri-bench models [--trunks ...] [--sharing ...] [--onnx]  model only: params, GMACs, ms per window/frame
    mtl-hri-bench engine [--models DIR ...] [--device cuda] ...     the node's engine: ms per window / streamed frame
    mtl-hri-bench e2e [--duration 300] [--sweep 15 30 60 ...]      through real DDS on loopback, separate processes
    mtl-hri-bench soak [--minutes 30] [--interval 10] [--fps 30]   RSS and latency over a long run: JSON and PNG
    mtl-hri-bench frontend [--frames 200] [--people 4]             the front end per stage; tracking on a scene

The package also holds what the benchmarks, the demo and the tests use to drive real processes: `procs`
(console scripts as processes), `listener` (records the recognizer's outputs) and `naive_node` (the
naive recognizer that `e2e` compares against).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    # the commands are imported here, not above: importing `procs` or `listener` needs none of them
    from . import e2e, engine, frontend, models, soak
    from .report import machine, write_json

    parser = argparse.ArgumentParser(prog="mtl-hri-bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in (("models", models), ("engine", engine), ("e2e", e2e), ("frontend", frontend)):
        p = sub.add_parser(name, help=command.HELP)
        command.add_arguments(p)
        p.add_argument("--json", type=Path, help="write the results here")
        p.set_defaults(run=command.run)
    p = sub.add_parser("soak", help=soak.HELP, description=soak.__doc__)  # writes its own JSON (--out) and PNG (--plot)
    soak.add_arguments(p)
    p.set_defaults(run=soak.run, json=None)
    args = parser.parse_args(argv)
    results = {"machine": machine(), "command": "mtl-hri-bench " + " ".join(argv or sys.argv[1:])}
    results.update(args.run(args))
    if args.json:
        write_json(args.json, results)
    return 0
