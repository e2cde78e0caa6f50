"""A 2D U-Net over (trace, time) patches, in plain, residual and attention variants.

Input channels: the masked data and the trace mask (broadcast along time); output: the full section,
predicted as a correction added to the input so that an untrained model starts from the masked data.
Sections of any size are zero-padded (mask 0) to a multiple of ``2**depth`` and cropped back.
The defaults (``base_channels=16``, ``depth=3``) give about 0.5 M parameters (2 MB of float32 weights).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from promethium.core.errors import ParameterError
from promethium.ml.models.base import ReconstructionModel, group_norm, register_model

__all__ = ["UNet2D"]

VARIANTS = ("plain", "residual", "attention")


class _Block(nn.Module):
    """Two 3x3 conv + GroupNorm + LeakyReLU; with ``residual`` a (1x1-projected) skip around them."""

    def __init__(self, c_in: int, c_out: int, *, residual: bool, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1),
            group_norm(c_out),
            nn.LeakyReLU(0.1),
            nn.Dropout2d(dropout) if dropout > 0 else nn.Identity(),
            nn.Conv2d(c_out, c_out, 3, padding=1),
            group_norm(c_out),
        )
        self.skip: nn.Module | None = None
        if residual:
            self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        if self.skip is not None:
            y = y + self.skip(x)
        return self.act(y)


class _AttentionGate(nn.Module):
    """Additive attention gate (Oktay et al. 2018): weights the skip features by the decoder's context."""

    def __init__(self, c_skip: int, c_gate: int) -> None:
        super().__init__()
        inter = max(1, c_skip // 2)
        self.wx = nn.Conv2d(c_skip, inter, 1)
        self.wg = nn.Conv2d(c_gate, inter, 1)
        self.psi = nn.Conv2d(inter, 1, 1)

    def forward(self, skip: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        a = torch.sigmoid(self.psi(F.relu(self.wx(skip) + self.wg(gate))))
        return skip * a


@register_model("unet")
class UNet2D(ReconstructionModel):
    """U-Net for 2D patches.

    Args:
        base_channels: feature channels at full resolution (doubled at every level).
        depth: number of down-sampling steps (the bottleneck is ``2**depth`` coarser).
        variant: ``"plain"``, ``"residual"`` (residual conv blocks) or ``"attention"`` (attention-gated
            skips).
        dropout: channel dropout in the decoder and bottleneck (enables MC-dropout uncertainty).
        missing_weight: extra loss weight of the missing traces (see :meth:`ReconstructionModel.loss`).
    """

    def __init__(
        self,
        base_channels: int = 16,
        depth: int = 3,
        variant: str = "plain",
        dropout: float = 0.0,
        missing_weight: float = 1.0,
    ) -> None:
        if variant not in VARIANTS:
            raise ParameterError("variant", f"unknown U-Net variant {variant!r}", allowed=", ".join(VARIANTS))
        if not 1 <= int(depth) <= 6:
            raise ParameterError("depth", f"must be 1..6, got {depth}")
        if not 2 <= int(base_channels) <= 256:
            raise ParameterError("base_channels", f"must be 2..256, got {base_channels}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ParameterError("dropout", f"must be in [0, 1), got {dropout}")
        super().__init__(
            base_channels=int(base_channels),
            depth=int(depth),
            variant=variant,
            dropout=float(dropout),
            missing_weight=float(missing_weight),
        )
        residual = variant == "residual"
        chans = [int(base_channels) * 2**i for i in range(int(depth) + 1)]
        self.depth = int(depth)
        self.encoders = nn.ModuleList()
        c_prev = 2
        for c in chans[:-1]:
            self.encoders.append(_Block(c_prev, c, residual=residual, dropout=0.0))
            c_prev = c
        self.bottleneck = _Block(chans[-2], chans[-1], residual=residual, dropout=float(dropout))
        self.ups = nn.ModuleList()
        self.gates = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for c_low, c in zip(chans[:0:-1], chans[-2::-1], strict=True):
            self.ups.append(nn.ConvTranspose2d(c_low, c, 2, stride=2))
            self.gates.append(_AttentionGate(c, c) if variant == "attention" else nn.Identity())
            self.decoders.append(_Block(2 * c, c, residual=residual, dropout=float(dropout)))
        self.head = nn.Conv2d(chans[0], 1, 1)
        nn.init.zeros_(self.head.weight)
        if self.head.bias is not None:
            nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fill ``x`` ``(batch, 1, traces, samples)`` given the live-trace ``mask`` ``(batch, traces)``."""
        m = self.check_input(x, mask)
        n_tr, n_t = x.shape[-2], x.shape[-1]
        step = 2**self.depth
        pad_tr, pad_t = (-n_tr) % step, (-n_t) % step
        xm = x * m
        h = torch.cat([xm, m.expand_as(x)], dim=1)
        if pad_tr or pad_t:
            h = F.pad(h, (0, pad_t, 0, pad_tr))
        skips = []
        for enc in self.encoders:
            h = enc(h)
            skips.append(h)
            h = F.max_pool2d(h, 2)
        h = self.bottleneck(h)
        for up, gate, dec, skip in zip(self.ups, self.gates, self.decoders, skips[::-1], strict=True):
            h = up(h)
            s = gate(skip, h) if isinstance(gate, _AttentionGate) else skip
            h = dec(torch.cat([s, h], dim=1))
        out = self.head(h)[..., :n_tr, :n_t]
        return xm + out

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())
