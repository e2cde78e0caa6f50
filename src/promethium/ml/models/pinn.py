"""A physics-informed U-Net: the loss adds the plane-wave-destruction residual of the output.

Locally a seismic section is a sum of plane waves, ``u(x, t) = f(t - sigma x)``, which satisfy
``du/dx + sigma du/dt = 0`` for the local slope ``sigma`` (samples per trace). Training estimates
``sigma`` from the target with a smoothed structure tensor (no gradient flows through it) and adds
``physics_weight`` times the mean squared residual of the prediction, weighted by the structure tensor's
coherence (1 on one clean plane wave, 0 on noise or crossing dips) and normalised by the target's own
trace-direction gradient energy, so the term is scale-free. The residual is computed between neighbouring
traces (the missing traces are where it matters: it ties a filled trace to its neighbours along the
local dip). Inference is the plain U-Net's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from promethium.core.errors import ParameterError
from promethium.ml.models.base import register_model
from promethium.ml.models.unet import UNet2D

__all__ = ["PhysicsInformedUNet", "plane_wave_residual", "structure_tensor_slope"]


def _smooth(v: torch.Tensor, radius: tuple[int, int]) -> torch.Tensor:
    """Box smoothing over (trace, time) with edge replication: ``v`` ``(batch, 1, traces, samples)``."""
    rt, rs = radius
    v = F.pad(v, (rs, rs, rt, rt), mode="replicate")
    return F.avg_pool2d(v, (2 * rt + 1, 2 * rs + 1), stride=1)


def structure_tensor_slope(
    u: torch.Tensor, radius: tuple[int, int] = (2, 8), max_slope: float = 4.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Local slope (samples per trace) and coherence in [0, 1] of ``u`` ``(batch, 1, traces, samples)``
    at the midpoints between neighbouring traces, shape ``(batch, 1, traces - 1, samples)``."""
    ux = u[:, :, 1:, :] - u[:, :, :-1, :]
    um = 0.5 * (u[:, :, 1:, :] + u[:, :, :-1, :])
    ut = 0.5 * (F.pad(um, (0, 1))[..., 1:] - F.pad(um, (1, 0))[..., :-1])
    jxx, jtt, jxt = _smooth(ux * ux, radius), _smooth(ut * ut, radius), _smooth(ux * ut, radius)
    sigma = (-jxt / (jtt + 1e-6 * (jtt.mean() + 1e-12))).clamp(-max_slope, max_slope)
    trace = jxx + jtt
    coherence = torch.sqrt(((jxx - jtt) ** 2 + 4 * jxt**2).clamp_min(0)) / (
        trace + 1e-12 * (trace.mean() + 1e-30)
    )
    return sigma, coherence.clamp(0, 1)


def plane_wave_residual(u: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """``du/dx + sigma du/dt`` between neighbouring traces of ``u`` ``(batch, 1, traces, samples)``."""
    ux = u[:, :, 1:, :] - u[:, :, :-1, :]
    um = 0.5 * (u[:, :, 1:, :] + u[:, :, :-1, :])
    ut = 0.5 * (F.pad(um, (0, 1))[..., 1:] - F.pad(um, (1, 0))[..., :-1])
    return ux + sigma * ut


@register_model("pinn")
class PhysicsInformedUNet(UNet2D):
    """U-Net trained with an added plane-wave-destruction residual.

    Args:
        physics_weight: weight of the residual term (0: the plain U-Net).
        slope_radius: (traces, samples) half-widths of the structure-tensor smoothing.
        The other arguments are :class:`UNet2D`'s.
    """

    def __init__(
        self,
        base_channels: int = 16,
        depth: int = 3,
        variant: str = "plain",
        dropout: float = 0.0,
        missing_weight: float = 1.0,
        physics_weight: float = 0.1,
        slope_radius: tuple[int, int] | list[int] = (2, 8),
    ) -> None:
        if not float(physics_weight) >= 0:
            raise ParameterError("physics_weight", f"must be >= 0, got {physics_weight}")
        radius = tuple(int(r) for r in slope_radius)
        if len(radius) != 2 or min(radius) < 1:
            raise ParameterError("slope_radius", f"must be two sizes >= 1, got {slope_radius}")
        super().__init__(
            base_channels=base_channels,
            depth=depth,
            variant=variant,
            dropout=dropout,
            missing_weight=missing_weight,
        )
        self.config.update(physics_weight=float(physics_weight), slope_radius=list(radius))

    def physics_loss(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Coherence-weighted mean squared plane-wave residual of ``pred`` along the slopes of ``target``,
        over the target's trace-gradient energy."""
        with torch.no_grad():
            r = self.config["slope_radius"]
            sigma, coherence = structure_tensor_slope(target.float(), (int(r[0]), int(r[1])))
            scale = ((target[:, :, 1:, :] - target[:, :, :-1, :]).float() ** 2).mean() + 1e-12
        res = plane_wave_residual(pred.float(), sigma)
        return (coherence * res**2).mean() / scale

    def loss(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        rec = super().loss(pred, target, mask, weight)
        w = float(self.config["physics_weight"])
        if w == 0 or pred.shape[-2] < 2:
            return rec
        return rec + w * self.physics_loss(pred, target)
