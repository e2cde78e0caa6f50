"""A 3D U-Net over (inline, crossline, time) patches: it sees both trace directions at once, which a 2D
network run inline by inline cannot (on the real cube the 2D model lost 3.5-4.7 dB to the 3D classical
methods for that reason).

Input channels: the masked data and the trace mask (broadcast along time); output: the full volume,
predicted as a correction added to the input, as in :class:`promethium.ml.models.unet.UNet2D`.
Volumes of any size are zero-padded (mask 0) to a multiple of ``2**depth`` along each axis and cropped
back. Surveys often have few inlines in a patch, so the defaults are small: ``base_channels=8``,
``depth=2`` (about 0.1 M parameters).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from promethium.core.errors import ParameterError
from promethium.ml.models.base import ReconstructionModel, group_norm, register_model

__all__ = ["UNet3D"]


class _Block3D(nn.Module):
    """Two 3x3x3 conv + GroupNorm + LeakyReLU, with a (1x1x1-projected) residual skip."""

    def __init__(self, c_in: int, c_out: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(c_in, c_out, 3, padding=1),
            group_norm(c_out),
            nn.LeakyReLU(0.1),
            nn.Dropout3d(dropout) if dropout > 0 else nn.Identity(),
            nn.Conv3d(c_out, c_out, 3, padding=1),
            group_norm(c_out),
        )
        self.skip = nn.Conv3d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.skip(x))


@register_model("unet3d")
class UNet3D(ReconstructionModel):
    """U-Net for 3D patches ``(batch, 1, inlines, crosslines, samples)`` with mask ``(batch, il, xl)``.

    Args:
        base_channels: feature channels at full resolution (doubled at every level).
        depth: number of down-sampling steps (by 2 along every axis).
        dropout: channel dropout in the decoder and bottleneck (enables MC-dropout uncertainty).
        missing_weight: extra loss weight of the missing traces (see :meth:`ReconstructionModel.loss`).
    """

    spatial_dims = 3
    # Training in bf16 autocast on this CPU (oneDNN, torch 2.13) turned the loss to NaN within 15 steps,
    # while float32 trained smoothly from the same start: 3D models stay float32 on CPUs.
    cpu_bf16 = False

    def __init__(
        self,
        base_channels: int = 8,
        depth: int = 2,
        dropout: float = 0.0,
        missing_weight: float = 1.0,
    ) -> None:
        if not 1 <= int(depth) <= 4:
            raise ParameterError("depth", f"must be 1..4, got {depth}")
        if not 2 <= int(base_channels) <= 128:
            raise ParameterError("base_channels", f"must be 2..128, got {base_channels}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ParameterError("dropout", f"must be in [0, 1), got {dropout}")
        super().__init__(
            base_channels=int(base_channels),
            depth=int(depth),
            dropout=float(dropout),
            missing_weight=float(missing_weight),
        )
        chans = [int(base_channels) * 2**i for i in range(int(depth) + 1)]
        self.depth = int(depth)
        self.encoders = nn.ModuleList()
        c_prev = 2
        for c in chans[:-1]:
            self.encoders.append(_Block3D(c_prev, c, 0.0))
            c_prev = c
        self.bottleneck = _Block3D(chans[-2], chans[-1], float(dropout))
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for c_low, c in zip(chans[:0:-1], chans[-2::-1], strict=True):
            self.ups.append(nn.ConvTranspose3d(c_low, c, 2, stride=2))
            self.decoders.append(_Block3D(2 * c, c, float(dropout)))
        self.head = nn.Conv3d(chans[0], 1, 1)
        nn.init.zeros_(self.head.weight)
        if self.head.bias is not None:
            nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fill ``x`` ``(batch, 1, il, xl, samples)`` given the live-trace ``mask`` ``(batch, il, xl)``."""
        m = self.check_input(x, mask)
        n_il, n_xl, n_t = x.shape[-3], x.shape[-2], x.shape[-1]
        step = 2**self.depth
        pads = [(-n) % step for n in (n_il, n_xl, n_t)]
        xm = x * m
        h = torch.cat([xm, m.expand_as(x)], dim=1)
        if any(pads):
            h = F.pad(h, (0, pads[2], 0, pads[1], 0, pads[0]))
        skips = []
        for enc in self.encoders:
            h = enc(h)
            skips.append(h)
            h = F.max_pool3d(h, 2)
        h = self.bottleneck(h)
        for up, dec, skip in zip(self.ups, self.decoders, skips[::-1], strict=True):
            h = dec(torch.cat([skip, up(h)], dim=1))
        out = self.head(h)[..., :n_il, :n_xl, :n_t]
        return xm + out

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.config.items())
