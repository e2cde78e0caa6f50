"""A convolutional denoising autoencoder: strided-conv encoder, transposed-conv decoder, no skips.

The bottleneck forces the output onto coherent structure, so the model removes incoherent noise and
fills missing traces at the cost of fine detail; it is the lighter baseline to the U-Net.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from promethium.core.errors import ParameterError
from promethium.ml.models.base import ReconstructionModel, group_norm, register_model

__all__ = ["DenoisingAutoencoder", "strided_decoder", "strided_encoder"]


def strided_encoder(chans: list[int]) -> nn.Sequential:
    """Stride-2 conv + group norm + LeakyReLU per level, from the 2 input channels (data, mask)."""
    layers: list[nn.Module] = []
    c_prev = 2
    for c in chans:
        layers += [nn.Conv2d(c_prev, c, 3, stride=2, padding=1), group_norm(c), nn.LeakyReLU(0.1)]
        c_prev = c
    return nn.Sequential(*layers)


def strided_decoder(chans: list[int], dropout: float, first: list[nn.Module] | None = None) -> nn.Sequential:
    """The mirror of :func:`strided_encoder`: transposed convs back to full resolution, ending with
    ``chans[0]`` channels; ``first`` layers (if any) come before them."""
    layers: list[nn.Module] = list(first or [])
    c_prev = chans[-1]
    for c in [*chans[-2::-1], chans[0]]:
        layers += [nn.ConvTranspose2d(c_prev, c, 2, stride=2), group_norm(c), nn.LeakyReLU(0.1)]
        if dropout > 0:
            layers.append(nn.Dropout2d(dropout))
        c_prev = c
    return nn.Sequential(*layers)


@register_model("dae")
class DenoisingAutoencoder(ReconstructionModel):
    """Denoising autoencoder for 2D patches.

    Args:
        base_channels: channels after the first down-sampling (doubled at every level).
        depth: number of stride-2 down-sampling steps.
        dropout: channel dropout in the decoder (enables MC-dropout uncertainty).
        missing_weight: extra loss weight of the missing traces.
    """

    def __init__(
        self, base_channels: int = 16, depth: int = 2, dropout: float = 0.0, missing_weight: float = 1.0
    ) -> None:
        if not 1 <= int(depth) <= 5:
            raise ParameterError("depth", f"must be 1..5, got {depth}")
        if not 2 <= int(base_channels) <= 256:
            raise ParameterError("base_channels", f"must be 2..256, got {base_channels}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ParameterError("dropout", f"must be in [0, 1), got {dropout}")
        super().__init__(
            base_channels=int(base_channels),
            depth=int(depth),
            dropout=float(dropout),
            missing_weight=float(missing_weight),
        )
        self.depth = int(depth)
        chans = [int(base_channels) * 2**i for i in range(self.depth)]
        self.encoder = strided_encoder(chans)
        self.decoder = strided_decoder(chans, float(dropout))
        self.head = nn.Conv2d(chans[0] + 2, 1, 3, padding=1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fill ``x`` ``(batch, 1, traces, samples)`` given the live-trace ``mask`` ``(batch, traces)``."""
        m = self.check_input(x, mask)
        n_tr, n_t = x.shape[-2], x.shape[-1]
        step = 2**self.depth
        xm = x * m
        inp = torch.cat([xm, m.expand_as(x)], dim=1)
        h = F.pad(inp, (0, (-n_t) % step, 0, (-n_tr) % step))
        h = self.decoder(self.encoder(h))[..., :n_tr, :n_t]
        return self.head(torch.cat([h, inp], dim=1))
