"""The training loop: `mtl-hri-train --config config/train/<name>.yaml`. Short enough to read in one go.

Every epoch writes `last/` (a model directory the node can load, plus the training state) and,
when the validation score improves, `best/`. Resuming restores weights, optimizer, weighting,
counters and the RNG, so a resumed run continues exactly as an uninterrupted one.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from tqdm import tqdm

from ..model import ModelCard, Provenance, build_model, load_model_dir, save_model_dir
from ..model.lws import LWSSharing
from .config import OptimConfig, TrainConfig
from .evaluate import EvalReport, autocast, evaluate, normalize_batch
from .losses import mtl_losses
from .state import load_state, save_state
from .weighting import build_weighting


def triangular_lr(epoch: float, cfg: OptimConfig) -> float:
    """Triangular cyclic learning rate (Smith 2017): lr_min -> lr_max -> lr_min over cycle_epochs."""
    phase = (epoch / cfg.cycle_epochs) % 1.0
    return cfg.lr_min + (cfg.lr_max - cfg.lr_min) * (1 - abs(2 * phase - 1))


def make_optimizer(model: torch.nn.Module, extra: torch.nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """Build the optimizer over three groups of parameters.

    Groups: weights (decayed), norms/biases and learned loss weights (not decayed), cross-stitch α (lr x mult).
    """
    sharing = getattr(model, "sharing", None)
    alpha = {id(p) for p in (sharing.cross_stitch_parameters() if hasattr(sharing, "cross_stitch_parameters") else [])}
    decay, no_decay, stitch = [], [], []
    for p in model.parameters():
        if not p.requires_grad:
            continue
        (stitch if id(p) in alpha else decay if p.ndim > 1 else no_decay).append(p)
    no_decay += [p for p in extra.parameters() if p.requires_grad]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay, "lr_mult": 1.0},
        {"params": no_decay, "weight_decay": 0.0, "lr_mult": 1.0},
        {"params": stitch, "weight_decay": 0.0, "lr_mult": cfg.cross_stitch_lr_mult},
    ]
    groups = [g for g in groups if g["params"]]
    if cfg.name == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr_min, momentum=cfg.momentum, nesterov=cfg.nesterov)
    if cfg.name == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr_min)
    raise ValueError(f"unknown optimizer '{cfg.name}' (sgd, adamw)")


@dataclass
class Distributed:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Distributed:
    """Join the process group that torchrun's WORLD_SIZE/RANK/LOCAL_RANK describe; gloo on the CPU, nccl on GPUs."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Distributed()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    return Distributed(dist.get_rank(), world, int(os.environ.get("LOCAL_RANK", "0")))


def _loader(ds: Dataset, cfg: TrainConfig, ddp: Distributed, train: bool, epoch: int, collate) -> DataLoader:
    sampler = DistributedSampler(ds, ddp.world, ddp.rank, shuffle=train, seed=cfg.seed) if ddp.world > 1 else None
    if sampler is not None:
        sampler.set_epoch(epoch)
    generator = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)  # the shuffle order depends on the epoch only
    return DataLoader(ds, batch_size=cfg.batch_size, shuffle=train and sampler is None, sampler=sampler,
                      num_workers=cfg.workers, collate_fn=collate, generator=generator, drop_last=train,
                      persistent_workers=False, pin_memory=torch.cuda.is_available())


def _card(cfg: TrainConfig, labels: dict[str, list[str]], report: EvalReport | None, epoch: int) -> ModelCard:
    return ModelCard(
        name=cfg.name, arch=cfg.arch, labels=labels, input=cfg.input,
        provenance=Provenance(trained=True, init=f"trunk init: {cfg.arch.trunk_weights or 'default'}",
                              training=f"mtl-hri-train {cfg.name}: {epoch + 1}/{cfg.epochs} epochs on {cfg.data}, "
                                       f"{cfg.arch.sharing} sharing, {cfg.weighting.name} weighting, seed {cfg.seed}"),
        # a metric with nothing to measure is NaN, which JSON cannot hold: the card says null ("not measured")
        metrics={k: v if math.isfinite(v) else None for k, v in report.summary().items()} if report else {},
    )


def train(cfg: TrainConfig, resume: bool = False, datasets=None) -> Path:
    """Train `cfg`; `datasets` = (train, val, labels, collate) overrides loading `cfg.data`."""
    from ..data.composite import load_datasets

    ddp = setup_distributed()
    device = torch.device(f"cuda:{ddp.local_rank}" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(cfg.seed)
    train_ds, val_ds, label_space, collate = datasets or load_datasets(cfg.data, cfg.input, cfg.seed)
    labels = {task: label_space.classes[task] for task in cfg.tasks}
    cfg.arch.hand_head = cfg.hands
    model = build_model(cfg.arch, labels, pretrained=True, window_frames=cfg.input.frames).to(device)
    options = {"temperature": cfg.weighting.temperature} if cfg.weighting.name == "dwa" else {}
    weighted = [*cfg.tasks, *(["hands"] if cfg.hands else [])]
    weighting = build_weighting(cfg.weighting.name, weighted, **options).to(device)
    optimizer = make_optimizer(model, weighting, cfg.optim)
    out = Path(cfg.out)
    start, best, step = 0, -math.inf, 0
    if resume and (out / "last" / "model.json").is_file():
        loaded, _ = load_model_dir(out / "last")
        model.load_state_dict(loaded.state_dict())
        state = load_state(out / "last")
        optimizer.load_state_dict(state["optimizer"])
        weighting.load_state_dict(state["weighting"])
        torch.set_rng_state(state["rng"])
        start, best, step = state["epoch"] + 1, state["best"], state["step"]
    net = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True) if ddp.world > 1 else model
    lws = model.sharing if isinstance(model.sharing, LWSSharing) else None
    writer = None
    if ddp.main:
        from torch.utils.tensorboard import SummaryWriter

        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        writer = SummaryWriter(str(out / "tensorboard"))

    for epoch in range(start, cfg.epochs):
        if hasattr(train_ds, "set_epoch"):
            train_ds.set_epoch(epoch)
        loader = _loader(train_ds, cfg, ddp, True, epoch, collate)
        steps = min(len(loader), cfg.max_steps_per_epoch or len(loader))
        model.train()
        sums: dict[str, float] = {}
        t0, seen = time.perf_counter(), 0
        bar = tqdm(loader, total=steps, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not ddp.main, leave=False)
        for i, (clips, targets) in enumerate(bar):
            if i >= steps:
                break
            lr = triangular_lr(epoch + i / steps, cfg.optim)
            for group in optimizer.param_groups:
                group["lr"] = lr * group["lr_mult"]
            x = normalize_batch(clips.to(device, non_blocking=True), cfg.input)
            targets = targets.to(device, cfg.tasks)
            samples = lws.sample_assignments(cfg.nes.samples) if lws is not None else [None]
            sample_losses = []
            for a in samples:  # LWS: one pass per sampled assignment, gradients accumulate
                if lws is not None:
                    lws.set_assignment(a)
                with autocast(device, cfg.amp):
                    losses = mtl_losses(net(x), targets, cfg.loss)
                losses = {k: v for k, v in losses.items() if k in weighting.tasks}
                total = weighting(losses)
                (total / len(samples)).backward()
                sample_losses.append(total.item())
            if lws is not None:
                lws.set_assignment(None)
                lws.nes_update(samples, -torch.tensor(sample_losses), cfg.nes.lr)
            if cfg.optim.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            seen += len(clips) * ddp.world
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v.item()
            sums["total"] = sums.get("total", 0.0) + sum(sample_losses) / len(sample_losses)
            bar.set_postfix(loss=f"{sample_losses[-1]:.3f}", clips_s=f"{seen / (time.perf_counter() - t0):.1f}",
                            lr=f"{lr:.1e}")
        means = {k: v / steps for k, v in sums.items()}
        weighting.end_epoch({k: means[k] for k in weighting.tasks if k in means})
        if not ddp.main:
            continue
        report = evaluate(model, _loader(val_ds, cfg, Distributed(), False, epoch, collate), cfg.input, device, cfg.amp)
        score = report.score()
        record = {"epoch": epoch + 1, "step": step, "lr": lr, "clips_per_s": seen / (time.perf_counter() - t0),
                  **{f"train/{k}": v for k, v in means.items()}, **{f"val/{k}": v for k, v in report.summary().items()},
                  "weights": weighting.weights()}
        with open(out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        for k, v in record.items():
            if isinstance(v, float):
                writer.add_scalar(k, v, epoch + 1)
        tqdm.write(f"epoch {epoch + 1}: loss {means['total']:.4f}  " +
                   "  ".join(f"{k} {v:.3f}" for k, v in report.summary().items()))
        card = _card(cfg, labels, report, epoch)
        save_model_dir(model, card, out / "last")
        if score > best:
            best = score
            save_model_dir(model, card, out / "best")
            (out / "best" / "eval.json").write_text(json.dumps(report.to_dict(), indent=2))
        save_state(out / "last", {"optimizer": optimizer.state_dict(), "weighting": weighting.state_dict(),
                                  "rng": torch.get_rng_state(), "epoch": epoch, "best": best, "step": step})
    if writer is not None:
        writer.close()
    if ddp.world > 1:
        dist.destroy_process_group()
    return out
