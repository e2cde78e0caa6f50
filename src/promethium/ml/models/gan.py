"""A conditional GAN for trace reconstruction: a U-Net generator and a PatchGAN discriminator.

The generator is :class:`~promethium.ml.models.unet.UNet2D`; the discriminator (Isola et al. 2017's
PatchGAN, with spectral normalisation) scores overlapping patches of a section, given the trace mask as a
second channel, as recorded or generated. The generator's loss is the weighted MSE plus ``adv_weight``
times the non-saturating adversarial loss; :func:`promethium.ml.train.train` updates the discriminator
after every generator step with :meth:`discriminator_loss` (its own optimiser). Inference uses the
generator only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from promethium.core.errors import ParameterError
from promethium.ml.models.base import ReconstructionModel, register_model
from promethium.ml.models.unet import UNet2D

__all__ = ["PatchDiscriminator", "ReconstructionGAN"]


class PatchDiscriminator(nn.Module):
    """Strided convolutions to a map of real/fake logits, one per receptive-field patch."""

    def __init__(self, channels: int = 16, layers: int = 3) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        c_prev = 2
        for i in range(layers):
            c = channels * 2**i
            mods += [spectral_norm(nn.Conv2d(c_prev, c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            c_prev = c
        mods.append(spectral_norm(nn.Conv2d(c_prev, 1, 3, padding=1)))
        self.net = nn.Sequential(*mods)

    def forward(self, section: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([section, mask.expand_as(section)], dim=1))


@register_model("gan")
class ReconstructionGAN(ReconstructionModel):
    """U-Net generator + PatchGAN discriminator.

    Args:
        base_channels, depth, variant, dropout: the generator's :class:`UNet2D` arguments.
        disc_channels, disc_layers: the discriminator's width and number of stride-2 layers.
        adv_weight: weight of the adversarial term in the generator's loss.
        missing_weight: extra loss weight of the missing traces.
    """

    def __init__(
        self,
        base_channels: int = 16,
        depth: int = 3,
        variant: str = "plain",
        dropout: float = 0.0,
        disc_channels: int = 16,
        disc_layers: int = 3,
        adv_weight: float = 0.01,
        missing_weight: float = 1.0,
    ) -> None:
        if not 1 <= int(disc_layers) <= 5:
            raise ParameterError("disc_layers", f"must be 1..5, got {disc_layers}")
        if not 2 <= int(disc_channels) <= 128:
            raise ParameterError("disc_channels", f"must be 2..128, got {disc_channels}")
        if not float(adv_weight) >= 0:
            raise ParameterError("adv_weight", f"must be >= 0, got {adv_weight}")
        super().__init__(
            base_channels=int(base_channels),
            depth=int(depth),
            variant=variant,
            dropout=float(dropout),
            disc_channels=int(disc_channels),
            disc_layers=int(disc_layers),
            adv_weight=float(adv_weight),
            missing_weight=float(missing_weight),
        )
        self.generator = UNet2D(
            base_channels=base_channels,
            depth=depth,
            variant=variant,
            dropout=dropout,
            missing_weight=missing_weight,
        )
        self.discriminator = PatchDiscriminator(int(disc_channels), int(disc_layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fill ``x`` ``(batch, 1, traces, samples)`` with the generator."""
        out: torch.Tensor = self.generator(x, mask)
        return out

    def generator_parameters(self) -> list[nn.Parameter]:
        """The parameters the generator's optimiser updates (the discriminator has its own)."""
        return list(self.generator.parameters())

    def discriminator_parameters(self) -> list[nn.Parameter]:
        return list(self.discriminator.parameters())

    def loss(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Weighted MSE plus ``adv_weight`` x softplus(-D(pred)) during training."""
        rec = super().loss(pred, target, mask, weight)
        adv_w = float(self.config["adv_weight"])
        if not self.training or adv_w == 0:
            return rec
        m = mask.to(pred.dtype)[:, None, :, None]
        return rec + adv_w * F.softplus(-self.discriminator(pred, m)).mean()

    def discriminator_loss(
        self, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Logistic loss of the discriminator: the target sections real, the (detached) outputs fake."""
        m = mask.to(pred.dtype)[:, None, :, None]
        real = self.discriminator(target, m)
        fake = self.discriminator(pred.detach(), m)
        return F.softplus(-real).mean() + F.softplus(fake).mean()
