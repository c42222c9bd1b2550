"""The multi-task network: a sharing strategy over trunk columns, then one head per task."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import ArchConfig
from .heads import ClassificationHead, GateHead, HandHead, global_pool
from .trunk import TrunkFeatures


@dataclass
class MTLOutput:
    """Everything a forward pass predicts.

    S is the number of temporal slices of the hand head: S = T for per-frame trunks (TSM), S = T' (the last feature
    map's length) for 3D trunks.
    """

    logits: dict[str, torch.Tensor]  # task -> (B, n_classes); class 0 is "none"
    hand_heatmaps: torch.Tensor | None  # (B, S, 2, h, w), each map sums to 1
    hand_coords: torch.Tensor | None  # (B, S, 2, 2) (x, y) in [-1, 1] over the crop; hand 0 = left, 1 = right
    hand_visibility: torch.Tensor | None  # (B, S, 2) logits
    gate_logits: torch.Tensor | None = None  # (B, 3) over ("action", "gesture", "none"); reporting only


@dataclass
class StreamState:
    """What earlier frames contributed, so that a new frame costs one frame of compute."""

    shifts: list[torch.Tensor]  # per shifted block: the previous frame's fold (B, fold, h, w)
    pooled: torch.Tensor  # (B, T, C) pooled deep features of the last T frames, oldest first
    count: torch.Tensor  # (B,) frames seen, float (the mean divides by min(count, T))

    @staticmethod
    def cat(states: list["StreamState"]) -> "StreamState":
        """Several streams' states as one batch."""
        return StreamState([torch.cat(s) for s in zip(*(st.shifts for st in states))],
                           torch.cat([st.pooled for st in states]), torch.cat([st.count for st in states]))

    def split(self) -> list["StreamState"]:
        """One state per batch row."""
        return [StreamState([s[b : b + 1] for s in self.shifts], self.pooled[b : b + 1], self.count[b : b + 1])
                for b in range(self.pooled.shape[0])]


class MultiTaskNet(nn.Module):
    def __init__(self, arch: ArchConfig, n_classes: dict[str, int], sharing: nn.Module, window_frames: int) -> None:
        """`sharing` maps a clip to per-task TrunkFeatures and exposes out_channels / low_channels."""
        super().__init__()
        self.arch = arch
        self.tasks = list(n_classes)
        self.sharing = sharing
        self.window_frames = window_frames  # frames the streaming ring averages over
        out_channels, low_channels = sharing.out_channels, sharing.low_channels
        self.heads = nn.ModuleDict({t: ClassificationHead(out_channels, n, arch.dropout) for t, n in n_classes.items()})
        self.hands = HandHead(low_channels, out_channels) if arch.hand_head else None
        self.gate = GateHead(out_channels) if arch.gate_head else None

    @property
    def hand_task(self) -> str:
        return self.arch.hand_task if self.arch.hand_task in self.tasks else self.tasks[0]

    @property
    def supports_streaming(self) -> bool:
        trunk = getattr(self.sharing, "trunk", None)
        return bool(getattr(trunk, "streaming", False))

    def forward(self, clip: torch.Tensor) -> MTLOutput:
        """clip: (B, T, 3, H, W), normalised."""
        return self._heads(self.sharing(clip))

    def _heads(self, features: dict[str, TrunkFeatures]) -> MTLOutput:
        pooled = {task: global_pool(f.high) for task, f in features.items()}
        logits = {task: head(pooled[task]) for task, head in self.heads.items()}
        shared = features[self.hand_task]
        gate = self.gate(pooled[self.hand_task]) if self.gate is not None else None
        if self.hands is None:
            return MTLOutput(logits, None, None, None, gate)
        heatmaps, coords, vis = self.hands(shared.low, shared.high)
        return MTLOutput(logits, heatmaps, coords, vis, gate)

    # ---------------------------------------------------------------- streaming (per-frame trunks)
    def init_state(self, batch: int, size: int, device: torch.device | str = "cpu") -> StreamState:
        """Return the state before any frame: zeros, exactly what the first frame of a window sees."""
        trunk = self._streaming_trunk()
        shifts = [torch.zeros(batch, *s, device=device) for s in trunk.shift_cache_shapes(size)]
        pooled = torch.zeros(batch, self.window_frames, trunk.out_channels, device=device)
        return StreamState(shifts, pooled, torch.zeros(batch, device=device))

    def prime(self, clip: torch.Tensor) -> tuple[MTLOutput, StreamState]:
        """Run a full window, and return the streaming state at its end (to resume streaming after a gap or lag).

        The window goes through the model's own forward; the state is read off it: each shifted block's input
        fold at the last frame, and the last `window_frames` frames' pooled deep features (one trunk: every task
        reads the same).
        """
        with self._streaming_trunk().recording_shifts() as shifts:
            features = self.sharing(clip)
        out = self._heads(features)
        pooled = features[self.hand_task].high.mean(dim=(3, 4)).transpose(1, 2)  # (B, T, C)
        t = self.window_frames
        pooled = torch.cat([pooled.new_zeros(pooled.shape[0], max(0, t - pooled.shape[1]), pooled.shape[2]),
                            pooled[:, -t:]], dim=1)
        count = torch.full((clip.shape[0],), float(clip.shape[1]), device=clip.device)
        return out, StreamState(shifts, pooled, count)

    def step(self, frame: torch.Tensor, state: StreamState) -> tuple[MTLOutput, StreamState]:
        """One new frame (B, 3, H, W) -> outputs for the window ending at it (hands: this frame only)."""
        trunk = self._streaming_trunk()
        low, high, shifts = trunk.step(frame, state.shifts)
        pooled = torch.cat([state.pooled[:, 1:], high.mean(dim=(-2, -1)).unsqueeze(1)], dim=1)
        count = state.count + 1
        clip_features = pooled.sum(dim=1) / count.clamp(max=self.window_frames).unsqueeze(1)
        logits = {task: head(clip_features) for task, head in self.heads.items()}
        gate = self.gate(clip_features) if self.gate is not None else None
        out = MTLOutput(logits, None, None, None, gate)
        if self.hands is not None:
            heatmaps, coords, vis = self.hands.per_slice(low, high)
            out = MTLOutput(logits, heatmaps.unsqueeze(1), coords.unsqueeze(1), vis.unsqueeze(1), gate)
        return out, StreamState(shifts, pooled, count)

    def _streaming_trunk(self):
        if not self.supports_streaming:
            raise ValueError(f"{self.arch.trunk} with {self.arch.sharing} sharing does not stream")
        return self.sharing.trunk
