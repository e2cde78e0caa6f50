"""A convolutional variational autoencoder (VAE) for 2D patches.

The encoder maps the masked section and its mask to a spatial latent map (mean and log-variance at
``2**depth`` coarser resolution); training samples the latent with the reparameterisation trick and adds
``beta`` times the KL divergence to the reconstruction loss; evaluation decodes the mean, so inference is
deterministic. Skip features of the masked input at full resolution feed the decoder's head, as in the
denoising autoencoder, so recorded detail is not squeezed through the latent.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from promethium.core.errors import ParameterError
from promethium.ml.models.base import ReconstructionModel, register_model
from promethium.ml.models.dae import strided_decoder, strided_encoder

__all__ = ["VariationalAutoencoder"]


@register_model("vae")
class VariationalAutoencoder(ReconstructionModel):
    """VAE for 2D patches.

    Args:
        base_channels: channels after the first down-sampling (doubled at every level).
        depth: number of stride-2 down-sampling steps.
        latent_channels: channels of the latent map.
        beta: weight of the KL term in :meth:`loss` (per latent element, relative to the per-sample MSE).
        dropout: channel dropout in the decoder (MC-dropout uncertainty).
        missing_weight: extra loss weight of the missing traces.
    """

    def __init__(
        self,
        base_channels: int = 16,
        depth: int = 2,
        latent_channels: int = 8,
        beta: float = 1e-3,
        dropout: float = 0.0,
        missing_weight: float = 1.0,
    ) -> None:
        if not 1 <= int(depth) <= 5:
            raise ParameterError("depth", f"must be 1..5, got {depth}")
        if not 2 <= int(base_channels) <= 256:
            raise ParameterError("base_channels", f"must be 2..256, got {base_channels}")
        if not 1 <= int(latent_channels) <= 256:
            raise ParameterError("latent_channels", f"must be 1..256, got {latent_channels}")
        if not float(beta) >= 0:
            raise ParameterError("beta", f"must be >= 0, got {beta}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ParameterError("dropout", f"must be in [0, 1), got {dropout}")
        super().__init__(
            base_channels=int(base_channels),
            depth=int(depth),
            latent_channels=int(latent_channels),
            beta=float(beta),
            dropout=float(dropout),
            missing_weight=float(missing_weight),
        )
        self.depth = int(depth)
        chans = [int(base_channels) * 2**i for i in range(self.depth)]
        self.encoder = strided_encoder(chans)
        self.to_stats = nn.Conv2d(chans[-1], 2 * int(latent_channels), 1)
        from_latent = [nn.Conv2d(int(latent_channels), chans[-1], 3, padding=1), nn.LeakyReLU(0.1)]
        self.decoder = strided_decoder(chans, float(dropout), first=from_latent)
        self.head = nn.Conv2d(chans[0] + 2, 1, 3, padding=1)
        #: KL divergence of the last forward pass (mean per latent element); read by :meth:`loss`
        self.last_kl: torch.Tensor | None = None

    def encode(self, inp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of the latent map of a padded ``(batch, 2, traces, samples)`` input."""
        mu, logvar = self.to_stats(self.encoder(inp)).chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fill ``x`` ``(batch, 1, traces, samples)`` given the live-trace ``mask`` ``(batch, traces)``."""
        m = self.check_input(x, mask)
        n_tr, n_t = x.shape[-2], x.shape[-1]
        step = 2**self.depth
        xm = x * m
        inp = F.pad(torch.cat([xm, m.expand_as(x)], dim=1), (0, (-n_t) % step, 0, (-n_tr) % step))
        mu, logvar = self.encode(inp)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        self.last_kl = 0.5 * torch.mean(mu.float() ** 2 + logvar.float().exp() - 1.0 - logvar.float())
        h = self.decoder(z)
        return self.head(torch.cat([h, inp], dim=1))[..., :n_tr, :n_t]

    def loss(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The weighted MSE of :meth:`ReconstructionModel.loss` plus ``beta`` x the KL divergence of the
        last forward pass (during training)."""
        rec = super().loss(pred, target, mask, weight)
        if self.training and self.last_kl is not None:
            return rec + float(self.config["beta"]) * self.last_kl
        return rec
