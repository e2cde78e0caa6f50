"""Quality control of seismic data: dead, clipped, noisy and polarity-reversed traces, per-trace RMS and
SNR, the amplitude spectrum, and the consistency of the geometry headers.

::

    from promethium.signal.quality import qc

    report = qc(data)                 # SeismicData, or an array with dt_ms=
    report.summary["n_noisy"], report.noisy          # counts and per-trace flags
    for issue in report.issues: print(issue.severity, issue.message)
    report.to_json("qc.json"); report.plot("qc.png")

Every check is vectorised over traces and works on 2D lines ``(trace, time)`` and 3D volumes
``(inline, crossline, time)``; "neighbours" are the traces around a trace along the line, or in the
inline-crossline grid. The checks, in order (a trace is counted under the first that applies among dead,
non-finite, clipped and noisy; polarity is checked on every usable trace):

- **non-finite**: any NaN or infinite sample (reported, never raised; the trace is left out of the rest).
- **dead**: ``trace_mask`` False, all samples zero, or an RMS below ``dead_threshold`` times the median
  RMS of the other traces.
- **clipped**: at least one flat top (a run of ``clip_run`` or more samples at the trace's maximum
  ``|amplitude|``, to a relative 1e-6), and at least 3 samples, and ``clip_fraction`` of the trace, at
  that maximum. An unclipped trace of real numbers reaches its maximum once.
- **noisy**: a robust z-score above ``noisy_sigma`` of either the log RMS or the log fraction of energy
  above the band of the data, against the median of the neighbouring traces; the scale is the MAD of the
  residuals over the whole data (1.4826 MAD, with a floor so that near-identical traces do not make every
  small difference an outlier).
- **reversed polarity**: the median, over the neighbouring traces (2 on each side along a line, the 8
  around a trace of a volume), of the signed peak of the normalised cross-correlation within
  ``max_lag_ms`` per trace of distance (to allow for dip) is below ``-polarity_threshold``. A pair's peak
  counts as negative only when the negative lobe is 1.5 x the positive one, so that faults and dips,
  where both lobes are alike, do not read as reversals.
- **SNR**: per trace, from the median ``ρ`` of the peak ``|correlation|`` with the neighbours:
  ``10 log10(ρ / (1 − ρ))`` dB (two traces sharing a signal ``S`` with independent noises ``N`` of equal
  power correlate at ``S / (S + N)``; biased low where the signal itself changes between traces),
  limited to ``[-30, 30]`` dB; unusable traces get -30 dB.
- **spectrum**: Welch power spectra (:func:`scipy.signal.welch`) per trace; the mean over usable traces
  gives the dominant frequency and the -6 dB band (amplitude at least half its peak).
- **headers** (SeismicData only, each check skipped when its headers are absent): missing (0, 0) or
  duplicate CDP coordinates, irregular trace spacing along the line (and along inlines and crosslines of
  a volume), missing or duplicate inline-crossline pairs, duplicate CDP numbers of a 2D line.

``qc`` raises only on empty input or bad parameters: all-dead data give a report that says so.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.fft as sfft
from scipy import ndimage
from scipy import signal as ss

from promethium.io.data import SeismicData
from promethium.signal._base import ArrayOrData, check_range, prepare

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SNR_CEIL_DB", "SNR_FLOOR_DB", "QCIssue", "QCReport", "qc"]

#: Limits of the per-trace SNR estimate (dB); traces without a usable estimate get the floor.
SNR_FLOOR_DB = -30.0
SNR_CEIL_DB = 30.0

_LOG_RMS_FLOOR = 0.05  # smallest robust scale of log RMS residuals (about 5 % in RMS)
_LOG_HF_FLOOR = 0.15  # smallest robust scale of log high-frequency-fraction residuals
_MAX_LISTED = 50  # trace positions listed per issue
_MIN_CLIPPED = 3  # samples at the peak amplitude that a clipped trace has at least
_SIGN_MARGIN = 1.5  # a correlation peak sets the polarity when 1.5 x larger than the opposite one
_SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class QCIssue:
    """One finding: ``severity`` ("error", "warning" or "info"), the ``check`` that found it, a
    human-readable ``message``, the number of traces concerned and the positions of the first ones
    (indices over the trace axes: ``[i]`` for a line, ``[inline_index, crossline_index]`` for a volume)."""

    severity: str
    check: str
    message: str
    count: int = 0
    traces: tuple[tuple[int, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "check": self.check,
            "message": self.message,
            "count": int(self.count),
            "traces": [list(t) for t in self.traces],
        }


@dataclass
class QCReport:
    """The result of :func:`qc`.

    ``summary``: counts, fractions and data-wide values (JSON-ready). Per-trace arrays, shaped like the
    trace axes: ``rms`` (amplitude units), ``snr_db``, ``dominant_frequency_hz``, ``noise_score`` (robust
    z-score), ``polarity`` (signed correlation with the neighbours, 0 where not computed),
    ``clip_fraction`` (fraction of samples at the maximum ``|amplitude|`` of a trace with a flat top, 0
    without one) and the boolean flags ``dead``, ``nonfinite``,
    ``clipped``, ``noisy``, ``reversed`` and ``header_flag``. ``frequencies_hz`` and
    ``amplitude_spectrum`` (square root of the mean power spectral density of the usable traces) describe
    the spectrum; ``issues`` lists the findings, errors first; ``parameters`` the thresholds used.
    """

    summary: dict[str, Any]
    rms: np.ndarray
    snr_db: np.ndarray
    dominant_frequency_hz: np.ndarray
    noise_score: np.ndarray
    polarity: np.ndarray
    clip_fraction: np.ndarray
    dead: np.ndarray
    nonfinite: np.ndarray
    clipped: np.ndarray
    noisy: np.ndarray
    reversed: np.ndarray
    header_flag: np.ndarray
    frequencies_hz: np.ndarray
    amplitude_spectrum: np.ndarray
    issues: list[QCIssue]
    parameters: dict[str, Any]
    # What plot() draws: one section (a 2D line, or the inline of a volume with most findings).
    _section: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False, compare=False)
    _section_index: int | None = field(default=None, repr=False, compare=False)
    _start_ms: float = field(default=0.0, repr=False, compare=False)

    @property
    def trace_shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.rms.shape)

    @property
    def flagged(self) -> np.ndarray:
        """Traces with any trace-level finding (dead, non-finite, clipped, noisy or reversed)."""
        return self.dead | self.nonfinite | self.clipped | self.noisy | self.reversed

    def to_dict(self, traces: bool = True) -> dict[str, Any]:
        """A JSON-safe dict (no NaN or infinity, numpy turned into Python): summary, parameters, issues,
        the spectrum and, when ``traces``, the per-trace arrays as nested lists."""
        out: dict[str, Any] = {
            "summary": _jsonable(self.summary),
            "parameters": _jsonable(self.parameters),
            "issues": [i.to_dict() for i in self.issues],
            "spectrum": {
                "frequencies_hz": _jsonable(self.frequencies_hz),
                "amplitude": _jsonable(self.amplitude_spectrum),
            },
        }
        if traces:
            out["traces"] = {
                name: _jsonable(getattr(self, name))
                for name in (
                    "rms",
                    "snr_db",
                    "dominant_frequency_hz",
                    "noise_score",
                    "polarity",
                    "clip_fraction",
                    "dead",
                    "nonfinite",
                    "clipped",
                    "noisy",
                    "reversed",
                    "header_flag",
                )
            }
        return out

    def to_json(self, path: str | os.PathLike[str] | None = None, *, traces: bool = True) -> str:
        """The report as JSON text (:meth:`to_dict`); also written to ``path`` when given."""
        text = json.dumps(self.to_dict(traces=traces), indent=1, allow_nan=False)
        if path is not None:
            with open(os.fspath(path), "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    def plot(self, path: str | os.PathLike[str] | None = None, *, dpi: int = 110) -> Figure:
        """A figure of the report: the section (time downward, symmetric clip) with the flagged traces
        marked, the per-trace RMS and SNR of that section, and the mean amplitude spectrum with its band.

        For a volume the section is the inline with most findings. Written as PNG to ``path`` when given;
        returns the matplotlib Figure."""
        from matplotlib.patches import Patch

        from promethium.plotting import _new_figure, _runs, _save, compute_clip

        dt = float(self.summary["dt_ms"])
        fig = _new_figure((14.0, 8.0))
        grid = fig.add_gridspec(3, 2, width_ratios=(1.7, 1.0))
        ax_sec = fig.add_subplot(grid[:, 0])
        ax_rms = fig.add_subplot(grid[0, 1])
        ax_snr = fig.add_subplot(grid[1, 1], sharex=ax_rms)
        ax_spec = fig.add_subplot(grid[2, 1])

        if self._section_index is None:
            sel: tuple[Any, ...] = (slice(None),)
            where = "line"
        else:
            sel = (self._section_index, slice(None))
            where = f"inline index {self._section_index}"
        section = self._section
        n_tr, n_t = section.shape if section.size else (0, 0)
        x = np.arange(n_tr)
        categories = {
            "dead": (self.dead[sel], "tab:red"),
            "non-finite": (self.nonfinite[sel], "black"),
            "clipped": (self.clipped[sel], "tab:orange"),
            "noisy": (self.noisy[sel], "tab:purple"),
            "reversed": (self.reversed[sel], "tab:cyan"),
        }
        if n_tr and n_t:
            usable = ~(self.dead[sel] | self.nonfinite[sel])
            clip = compute_clip(section, 99.0, usable if usable.any() else None)
            t0 = self._start_ms - dt / 2
            t1 = self._start_ms + (n_t - 0.5) * dt
            ax_sec.imshow(
                section.T,
                cmap="gray",
                vmin=-clip,
                vmax=clip,
                extent=(-0.5, n_tr - 0.5, t1, t0),
                aspect="auto",
                interpolation="nearest",
            )
        handles = []
        for name, (flags, colour) in categories.items():
            if not flags.any():
                continue
            for start, stop in _runs(flags):
                ax_sec.axvspan(start - 0.5, stop - 0.5, color=colour, alpha=0.2, lw=0)
            # A marker above each flagged trace: single traces are thin lines in a wide section.
            idx = np.flatnonzero(flags)
            top = self._start_ms - dt / 2
            ax_sec.scatter(
                idx, np.full(idx.size, top), marker="v", s=18, color=colour, clip_on=False, zorder=4
            )
            handles.append(Patch(color=colour, alpha=0.6, label=f"{name} ({int(flags.sum())})"))
        if n_tr and n_t:
            ax_sec.set_xlim(-0.5, n_tr - 0.5)
            ax_sec.set_ylim(self._start_ms + (n_t - 0.5) * dt, self._start_ms - dt / 2)
        if handles:
            ax_sec.legend(handles=handles, loc="lower right", fontsize="small", framealpha=0.8)
        trace_label = "Trace" if self._section_index is None else "Crossline index"
        ax_sec.set_xlabel(trace_label)
        ax_sec.set_ylabel("Time (ms)")
        ax_sec.set_title(f"QC — {where}: {int(self.flagged[sel].sum())} of {n_tr} traces flagged")

        rms = self.rms[sel]
        ax_rms.plot(x, rms, lw=0.8, color="0.2")
        snr = self.snr_db[sel]
        ax_snr.plot(x, snr, lw=0.8, color="0.2")
        for _name, (flags, colour) in categories.items():
            idx = np.flatnonzero(flags)
            if idx.size:
                ax_rms.scatter(idx, rms[idx], s=12, color=colour, zorder=3)
                ax_snr.scatter(idx, snr[idx], s=12, color=colour, zorder=3)
        if (rms > 0).any():
            ax_rms.set_yscale("log")
        ax_rms.set_ylabel("RMS")
        ax_rms.set_title("Per-trace RMS and SNR")
        ax_snr.set_ylabel("SNR (dB)")
        ax_snr.set_xlabel(trace_label)

        freqs = self.frequencies_hz
        amp = self.amplitude_spectrum
        if amp.size and amp.max() > 0:
            db = 20.0 * np.log10(np.maximum(amp / amp.max(), 1e-6))
            ax_spec.plot(freqs, db, color="0.2", lw=1.0)
            lo, hi = self.summary.get("band_low_hz"), self.summary.get("band_high_hz")
            if lo is not None and hi is not None:
                ax_spec.axvspan(lo, hi, color="tab:green", alpha=0.15, lw=0, label="-6 dB band")
            dom = self.summary.get("dominant_frequency_hz")
            if dom is not None:
                ax_spec.axvline(dom, color="tab:green", lw=1.0, label=f"dominant {dom:.1f} Hz")
            ax_spec.legend(fontsize="small")
            ax_spec.set_ylim(bottom=max(float(db.min()), -80.0) - 3.0, top=3.0)
        ax_spec.set_xlabel("Frequency (Hz)")
        ax_spec.set_ylabel("Amplitude (dB)")
        ax_spec.set_title("Mean amplitude spectrum")
        _save(fig, path, dpi)
        return fig


def qc(
    data: ArrayOrData,
    *,
    dt_ms: float | None = None,
    dead_threshold: float = 1e-3,
    clip_fraction: float = 0.002,
    clip_run: int = 2,
    noisy_sigma: float = 6.0,
    polarity_threshold: float = 0.4,
    neighbours: int = 5,
    max_lag_ms: float = 12.0,
    spacing_tolerance: float = 0.1,
) -> QCReport:
    """Quality-control report of a line or volume (see the module docstring for each check).

    Args:
        data: SeismicData or array, sample axis last (2D, 3D or one trace).
        dt_ms: sample interval in ms, required for numpy input (for the spectra).
        dead_threshold: RMS, relative to the median RMS of the live traces, below which a trace is dead.
        clip_fraction: smallest fraction of a trace's samples at its maximum ``|amplitude|`` for it to
            be clipped (besides at least 3 such samples and one flat top).
        clip_run: shortest flat top (consecutive samples at the maximum ``|amplitude|``), at least 2.
        noisy_sigma: robust z-score above which a trace is noisy.
        polarity_threshold: a correlation with the neighbours below ``-polarity_threshold`` flags
            reversed polarity (0 < threshold < 1).
        neighbours: half-width, in traces, of the neighbourhood of the noise statistics (along the line;
            in both directions of a volume). Polarity and SNR use the nearest 2 traces on each side of a
            line, the 8 around a trace of a volume.
        max_lag_ms: largest time shift (ms) searched between a trace and its neighbour, per trace of
            distance between them (dip).
        spacing_tolerance: relative deviation from the median trace spacing that counts as irregular.
    """
    prep = prepare(data, dt_ms=dt_ms, dtype=np.float32, allow_nonfinite=True)
    dt = prep.require_dt() * 1000.0
    check_range("dead_threshold", dead_threshold, low=0.0, high=1.0)
    check_range("clip_fraction", clip_fraction, low=0.0, high=1.0)
    check_range("clip_run", clip_run, low=2, high=max(2, prep.n_samples), integer=True)
    check_range("noisy_sigma", noisy_sigma, low=0.0, low_open=True)
    check_range("polarity_threshold", polarity_threshold, low=0.0, high=1.0, low_open=True, high_open=True)
    check_range("neighbours", neighbours, low=1, integer=True)
    check_range("max_lag_ms", max_lag_ms, low=0.0)
    check_range("spacing_tolerance", spacing_tolerance, low=0.0, low_open=True)
    params: dict[str, Any] = {
        "dead_threshold": float(dead_threshold),
        "clip_fraction": float(clip_fraction),
        "clip_run": int(clip_run),
        "noisy_sigma": float(noisy_sigma),
        "polarity_threshold": float(polarity_threshold),
        "neighbours": int(neighbours),
        "max_lag_ms": float(max_lag_ms),
        "spacing_tolerance": float(spacing_tolerance),
    }
    shape = prep.trace_shape
    n_tr, n_t = int(np.prod(shape)), prep.n_samples
    x = prep.values.reshape(n_tr, n_t)
    finite = np.isfinite(x)
    nonfinite = ~finite.all(axis=1)
    if nonfinite.any():
        x = np.where(finite, x, np.float32(0.0))
    issues: list[QCIssue] = []

    # ---- dead traces and RMS
    rms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64) / n_t)
    live = prep.mask.reshape(n_tr) & ~nonfinite
    nonzero = live & (rms > 0)
    ref_rms = float(np.median(rms[nonzero])) if nonzero.any() else 0.0
    dead = ~nonfinite & (~prep.mask.reshape(n_tr) | (rms == 0) | (rms < dead_threshold * ref_rms))
    ok = ~dead & ~nonfinite

    # ---- clipping: flat tops at the trace's largest |amplitude|
    clip_frac = np.zeros(n_tr)
    clipped = np.zeros(n_tr, dtype=bool)
    if ok.any() and n_t >= clip_run:
        clip_frac[ok] = _flat_top_fraction(x[ok], int(clip_run))
        need = max(float(_MIN_CLIPPED), clip_fraction * n_t) / n_t
        clipped = ok & (clip_frac >= need - 1e-12)

    # ---- spectra (Welch), dominant frequency and band
    fs = 1000.0 / dt
    nperseg = min(256, n_t)
    freqs = sfft.rfftfreq(nperseg, d=1.0 / fs)
    mean_psd = np.zeros(freqs.size)
    dominant = np.zeros(n_tr)
    hf_fraction = np.zeros(n_tr)
    band: tuple[float, float, float] | None = None
    if ok.any():
        freqs, psd = ss.welch(x[ok], fs=fs, nperseg=nperseg, axis=-1)
        mean_psd = psd.mean(axis=0)
        dominant[ok] = freqs[np.argmax(psd, axis=1)]
        band = _band(freqs, mean_psd)
        if band is not None:
            cut = min(band[2], 0.8 * freqs[-1])
            above = freqs > cut
            total = psd.sum(axis=1)
            hf_fraction[ok] = np.divide(
                psd[:, above].sum(axis=1), total, out=np.zeros(total.size), where=total > 0
            )

    # ---- neighbour-based checks: noisy, reversed polarity, SNR
    noise_score = np.zeros(n_tr)
    noisy = np.zeros(n_tr, dtype=bool)
    polarity = np.zeros(n_tr)
    reversed_ = np.zeros(n_tr, dtype=bool)
    snr_db = np.full(n_tr, SNR_FLOOR_DB)
    if int(ok.sum()) >= 3:
        z_rms = _robust_z(np.log(np.maximum(rms, 1e-300)), ok, shape, int(neighbours), _LOG_RMS_FLOOR)
        z_hf = np.zeros(n_tr)
        if band is not None:
            floor = 1e-4
            z_hf = _robust_z(np.log(hf_fraction + floor), ok, shape, int(neighbours), _LOG_HF_FLOOR)
        noise_score = np.where(ok, np.maximum(z_rms, z_hf), 0.0)
        noisy = ok & ~clipped & (noise_score > noisy_sigma)
        max_lag = round(float(max_lag_ms) / dt)
        polarity, coherence = _neighbour_correlation(x, ok, shape, max_lag)
        reversed_ = ok & (polarity < -polarity_threshold)
        # Two traces sharing a signal S with independent noises N correlate at S / (S + N).
        rho = np.clip(coherence, 0.0, 1.0)
        ratio = np.clip(
            rho / np.maximum(1.0 - rho, 1e-12), 10 ** (SNR_FLOOR_DB / 10), 10 ** (SNR_CEIL_DB / 10)
        )
        snr_db = np.where(ok, 10.0 * np.log10(ratio), SNR_FLOOR_DB)
    elif ok.any():
        issues.append(
            QCIssue("info", "neighbours", "fewer than 3 usable traces: noise, polarity and SNR not checked")
        )

    # ---- headers
    header_flag = np.zeros(n_tr, dtype=bool)
    if isinstance(prep.source, SeismicData):
        issues.extend(_header_checks(prep.source, live, header_flag, float(spacing_tolerance)))

    # ---- findings
    def positions(flags: np.ndarray) -> tuple[tuple[int, ...], ...]:
        idx = np.flatnonzero(flags)[:_MAX_LISTED]
        return tuple(tuple(int(v) for v in np.unravel_index(i, shape)) for i in idx)

    def pct(k: int) -> str:
        return f"{k} of {n_tr} traces ({100.0 * k / n_tr:.1f}%)"

    n_ok = int(ok.sum())
    if n_ok == 0:
        issues.insert(
            0, QCIssue("error", "dead", f"no usable trace: {pct(n_tr)} are dead or non-finite", n_tr)
        )
    if nonfinite.any():
        k = int(nonfinite.sum())
        issues.append(
            QCIssue("error", "nonfinite", f"{pct(k)} hold NaN or infinite samples", k, positions(nonfinite))
        )
    checks = (
        ("dead", dead, "are dead (masked, all zero or near-zero RMS)"),
        ("clipped", clipped, "are clipped (flat tops at their peak amplitude)"),
        ("noisy", noisy, f"are noisy (RMS or high-frequency energy above {noisy_sigma:g} robust sigma)"),
        ("reversed", reversed_, "look polarity-reversed (anti-correlated with their neighbours)"),
    )
    for name, flags, text in checks:
        k = int(flags.sum())
        if k and not (name == "dead" and n_ok == 0):
            issues.append(QCIssue("warning", name, f"{pct(k)} {text}", k, positions(flags)))
    if band is not None:
        issues.append(
            QCIssue(
                "info",
                "spectrum",
                f"dominant frequency {band[0]:.1f} Hz, -6 dB band {band[1]:.1f}-{band[2]:.1f} Hz",
            )
        )
    issues.sort(key=lambda i: _SEVERITIES.index(i.severity))

    usable_snr = snr_db[ok]
    summary: dict[str, Any] = {
        "n_traces": n_tr,
        "n_samples": n_t,
        "dt_ms": float(dt),
        "n_usable": n_ok,
        "n_dead": int(dead.sum()),
        "n_nonfinite": int(nonfinite.sum()),
        "n_clipped": int(clipped.sum()),
        "n_noisy": int(noisy.sum()),
        "n_reversed": int(reversed_.sum()),
        "n_header_flagged": int(header_flag.sum()),
        "dead_fraction": float(dead.sum()) / n_tr,
        "clipped_fraction": float(clipped.sum()) / n_tr,
        "noisy_fraction": float(noisy.sum()) / n_tr,
        "reversed_fraction": float(reversed_.sum()) / n_tr,
        "rms_median": float(np.median(rms[ok])) if n_ok else 0.0,
        "snr_median_db": float(np.median(usable_snr)) if n_ok >= 3 else None,
        "dominant_frequency_hz": band[0] if band else None,
        "band_low_hz": band[1] if band else None,
        "band_high_hz": band[2] if band else None,
        "bandwidth_hz": band[2] - band[1] if band else None,
        "n_errors": sum(i.severity == "error" for i in issues),
        "n_warnings": sum(i.severity == "warning" for i in issues),
    }

    flags_any = (dead | nonfinite | clipped | noisy | reversed_).reshape(shape)
    if len(shape) == 2:
        section_index: int | None = (
            int(np.argmax(flags_any.sum(axis=1))) if flags_any.any() else shape[0] // 2
        )
        section = x.reshape(*shape, n_t)[section_index]
    else:
        section_index = None
        section = x
    start = float(prep.source.samples[0]) if prep.source is not None and n_t else 0.0

    def grid(a: np.ndarray) -> np.ndarray:
        return a.reshape(shape)

    return QCReport(
        summary=summary,
        rms=grid(rms),
        snr_db=grid(snr_db),
        dominant_frequency_hz=grid(dominant),
        noise_score=grid(noise_score),
        polarity=grid(polarity),
        clip_fraction=grid(clip_frac),
        dead=grid(dead),
        nonfinite=grid(nonfinite),
        clipped=grid(clipped),
        noisy=grid(noisy),
        reversed=grid(reversed_),
        header_flag=grid(header_flag),
        frequencies_hz=np.asarray(freqs, dtype=np.float64),
        amplitude_spectrum=np.sqrt(np.maximum(mean_psd, 0.0)),
        issues=issues,
        parameters=params,
        _section=np.array(section, dtype=np.float32),
        _section_index=section_index,
        _start_ms=start,
    )


# --------------------------------------------------------------------------- trace checks
def _flat_top_fraction(x: np.ndarray, run: int) -> np.ndarray:
    """Per row: the fraction of samples at its max ``|x|`` (relative 1e-6) when they include a run of
    ``run`` or more consecutive samples (a flat top), else 0."""
    a = np.abs(x)
    peak = a.max(axis=1, keepdims=True)
    at = (a >= peak * (1.0 - 1e-6)) & (peak > 0)
    c = np.zeros((at.shape[0], at.shape[1] + 1), dtype=np.int32)
    np.cumsum(at, axis=1, out=c[:, 1:])
    flat_top = ((c[:, run:] - c[:, :-run]) == run).any(axis=1)  # some `run` consecutive samples at peak
    return np.where(flat_top, c[:, -1] / at.shape[1], 0.0)


def _band(freqs: np.ndarray, psd: np.ndarray) -> tuple[float, float, float] | None:
    """Dominant frequency and the -6 dB band (power at least a quarter of the peak) around it."""
    if not psd.size or not psd.max() > 0:
        return None
    k = int(np.argmax(psd))
    above = psd >= psd[k] / 4.0
    lo = k
    while lo > 0 and above[lo - 1]:
        lo -= 1
    hi = k
    while hi < psd.size - 1 and above[hi + 1]:
        hi += 1
    return float(freqs[k]), float(freqs[lo]), float(freqs[hi])


def _robust_z(
    feature: np.ndarray, ok: np.ndarray, shape: tuple[int, ...], half: int, floor: float
) -> np.ndarray:
    """Robust z-score of ``feature`` against the median of the neighbouring traces (flat arrays).

    Unusable traces are replaced by the median of the usable ones before the local median (scipy's
    median filter has no notion of missing values), and the scale is 1.4826 x the MAD of the residuals of
    the usable traces, at least ``floor``."""
    f = np.where(ok, feature, np.median(feature[ok])).reshape(shape)
    size = tuple(min(2 * half + 1, 2 * n - 1) if n > 1 else 1 for n in shape)
    local = ndimage.median_filter(f, size=size, mode="mirror").reshape(-1)
    resid = feature - local
    centre = float(np.median(resid[ok]))
    scale = max(1.4826 * float(np.median(np.abs(resid[ok] - centre))), floor)
    return np.where(ok, (resid - centre) / scale, 0.0)


def _neighbour_correlation(
    x: np.ndarray, ok: np.ndarray, shape: tuple[int, ...], max_lag: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(polarity, coherence)`` per trace from its normalised cross-correlations with its neighbours.

    For each pair of neighbouring traces the correlation is searched within ``±max_lag`` samples times
    their distance in traces (rounded up), so that dip does not read as a polarity change. ``coherence``
    is the median over the usable neighbours of the largest ``|correlation|``; ``polarity`` the median of
    the signed peak: the positive or the negative one, whichever is 1.5 x larger than the other, or 0 when
    neither is (both lobes alike, as across a fault). Neighbours: 2 traces on each side along a line, the
    8 around a trace in a volume. Both are 0 for unusable traces and traces without usable neighbours.
    Pairs are correlated with FFTs, one offset at a time over every trace (in blocks along the first axis
    to bound memory)."""
    n_t = x.shape[1]
    grid = x.reshape(*shape, n_t)
    okg = ok.reshape(shape)
    offsets: list[tuple[int, ...]] = [(1,), (2,)] if len(shape) == 1 else [(0, 1), (1, 0), (1, 1), (1, -1)]
    nfft = sfft.next_fast_len(n_t + 2 * max_lag + 1, real=True)  # no wrap-around up to 2 x max_lag
    per_row = int(np.prod(shape[1:], dtype=np.int64))
    block = max(1, int(2**25 // max(1, per_row * nfft)))  # spectra of at most ~2**24 bins per block
    # values[0, k], values[1, k]: the signed and the absolute peak correlation of trace i with trace
    # i + offsets[k] (NaN where either is unusable).
    values = np.full((2, len(offsets), *shape), np.nan)
    for b0 in range(0, shape[0], block):
        b1 = min(shape[0], b0 + block)
        h1 = min(shape[0], b1 + 2)  # halo: the largest offset along the first axis is 2
        seg = grid[b0:h1]
        norm = np.sqrt(np.einsum("...t,...t->...", seg, seg, dtype=np.float64))
        spec = sfft.rfft(seg, n=nfft, axis=-1, workers=-1)
        for k, off in enumerate(offsets):
            reach = int(np.ceil(np.hypot(*off))) if len(off) == 2 else off[0]
            lag = max_lag * reach
            src, dst = _pair_slices(off, seg.shape[:-1], b1 - b0)
            if src is None or dst is None:
                continue
            cc = sfft.irfft(spec[src] * spec[dst].conj(), n=nfft, axis=-1, workers=-1)
            window = (
                np.concatenate([cc[..., nfft - lag :], cc[..., : lag + 1]], axis=-1) if lag else cc[..., :1]
            )
            # The larger of the positive and negative peaks decides the sign, but only when it is
            # clearly larger (1.5 x): across faults or steep dips both lobes can be alike.
            pos = window.max(axis=-1)
            neg = -window.min(axis=-1)
            signed = np.where(pos >= _SIGN_MARGIN * neg, pos, np.where(neg >= _SIGN_MARGIN * pos, -neg, 0.0))
            denom = norm[src] * norm[dst]
            usable = okg[b0:h1][src] & okg[b0:h1][dst] & (denom > 0)
            safe = np.where(usable, denom, 1.0)
            values[0, k][b0:h1][src] = np.where(usable, signed / safe, np.nan)
            values[1, k][b0:h1][src] = np.where(usable, np.maximum(pos, neg) / safe, np.nan)
    out = []
    for which in range(2):
        # Each pair counts for both of its traces.
        gathered = []
        for k, off in enumerate(offsets):
            forward = values[which, k]
            backward = np.full(shape, np.nan)
            src, dst = _pair_slices(off, shape, shape[0])
            if src is not None and dst is not None:
                backward[dst] = forward[src]
            gathered.extend([forward.reshape(-1), backward.reshape(-1)])
        stack = np.stack(gathered, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no usable neighbour
            median = np.nanmedian(stack, axis=1)
        out.append(np.clip(np.where(np.isfinite(median) & ok, median, 0.0), -1.0, 1.0))
    return out[0], out[1]


def _pair_slices(
    offset: tuple[int, ...], shape: tuple[int, ...], n_first: int
) -> tuple[tuple[slice, ...] | None, tuple[slice, ...] | None]:
    """Slices selecting traces ``i`` (first ``n_first`` along axis 0) and ``i + offset`` of a grid."""
    src: list[slice] = []
    dst: list[slice] = []
    for axis, d in enumerate(offset):
        n = shape[axis]
        lo = max(0, -d)
        hi = min(n, n - d) if axis else min(n_first, n - d)
        if hi <= lo:
            return None, None
        src.append(slice(lo, hi))
        dst.append(slice(lo + d, hi + d))
    return tuple(src), tuple(dst)


# --------------------------------------------------------------------------- header checks
def _header_values(data: SeismicData, name: str) -> np.ndarray | None:
    """A trace header (or coordinate) as float64 over the trace axes, or None when absent."""
    if name in ("cdp_x", "cdp_y") and name in data.dataset.coords:
        values = np.asarray(data.dataset.coords[name].values, dtype=np.float64)
        if values.shape == data.shape[:-1]:
            return values
    if name not in data.header_names:
        return None
    values = np.asarray(data.header(name), dtype=np.float64)
    if name in ("cdp_x", "cdp_y") and "coordinate_scalar" in data.header_names:
        s = np.asarray(data.header("coordinate_scalar"), dtype=np.float64)
        factor = np.where(s < 0, 1.0 / np.where(s < 0, -s, 1.0), np.where(s > 0, s, 1.0))
        values = values * factor
    return values


def _header_checks(data: SeismicData, live: np.ndarray, flag: np.ndarray, tolerance: float) -> list[QCIssue]:
    """Geometry-header findings; marks the traces concerned in ``flag`` (flat, modified in place)."""
    shape = data.shape[:-1]
    issues: list[QCIssue] = []

    def positions(flags: np.ndarray) -> tuple[tuple[int, ...], ...]:
        idx = np.flatnonzero(flags)[:_MAX_LISTED]
        return tuple(tuple(int(v) for v in np.unravel_index(i, shape)) for i in idx)

    def report(check: str, flags: np.ndarray, message: str, severity: str = "warning") -> None:
        k = int(flags.sum())
        if k:
            flag[:] |= flags
            issues.append(QCIssue(severity, check, f"{k} traces {message}", k, positions(flags)))

    cx, cy = _header_values(data, "cdp_x"), _header_values(data, "cdp_y")
    if cx is not None and cy is not None:
        x, y = cx.reshape(-1), cy.reshape(-1)
        missing = live & (x == 0) & (y == 0)
        report("coordinates", missing, "have missing CDP coordinates (0, 0)")
        have = live & ~missing
        report(
            "coordinates", have & _duplicated(np.stack([x, y], axis=1), have), "share their CDP coordinates"
        )
        irregular = _irregular_spacing(cx, cy, have.reshape(shape), tolerance)
        report(
            "spacing",
            irregular.reshape(-1),
            f"are irregularly spaced (more than {100 * tolerance:g}% from the median trace spacing)",
        )
    else:
        issues.append(QCIssue("info", "headers", "no CDP coordinates: coordinate checks skipped"))

    il, xl = _header_values(data, "inline"), _header_values(data, "crossline")
    if il is not None and xl is not None:
        i, j = il.reshape(-1), xl.reshape(-1)
        missing = live & (i == 0) & (j == 0)
        report("inline_crossline", missing, "have missing inline/crossline numbers (0, 0)")
        have = live & ~missing
        report(
            "inline_crossline",
            have & _duplicated(np.stack([i, j], axis=1), have),
            "share their inline/crossline pair",
        )
        if data.is_3d and "inline" in data.dataset.coords and "crossline" in data.dataset.coords:
            grid_il = np.asarray(data.dataset["inline"].values, dtype=np.float64)[:, None]
            grid_xl = np.asarray(data.dataset["crossline"].values, dtype=np.float64)[None, :]
            wrong = (il != grid_il) | (xl != grid_xl)
            report(
                "inline_crossline",
                have & wrong.reshape(-1),
                "have inline/crossline headers that differ from their position in the volume",
            )
    if not data.is_3d and "cdp" in data.header_names:
        cdp = np.asarray(data.header("cdp"), dtype=np.float64)
        have = live & (cdp != 0)
        report("cdp", have & _duplicated(cdp[:, None], have), "share their CDP number")
    return issues


def _duplicated(keys: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Rows of ``keys`` (over the traces where ``use``) that occur more than once."""
    out = np.zeros(keys.shape[0], dtype=bool)
    idx = np.flatnonzero(use)
    if idx.size < 2:
        return out
    _, inverse, counts = np.unique(keys[idx], axis=0, return_inverse=True, return_counts=True)
    out[idx] = counts[inverse.reshape(-1)] > 1
    return out


def _irregular_spacing(cx: np.ndarray, cy: np.ndarray, have: np.ndarray, tolerance: float) -> np.ndarray:
    """Traces next to a step (along each trace axis) whose length differs from the median step by more
    than ``tolerance`` (relative). Steps touching traces without coordinates are not judged."""
    out = np.zeros(cx.shape, dtype=bool)
    for axis in range(cx.ndim):
        if cx.shape[axis] < 3:
            continue
        step = np.hypot(np.diff(cx, axis=axis), np.diff(cy, axis=axis))
        both = np.logical_and(
            np.take(have, range(0, cx.shape[axis] - 1), axis=axis),
            np.take(have, range(1, cx.shape[axis]), axis=axis),
        )
        if not both.any():
            continue
        median = float(np.median(step[both]))
        if not median > 0:
            bad = both & (step > 0)
        else:
            bad = both & (np.abs(step - median) > tolerance * median)
        pad = [(0, 0)] * cx.ndim
        pad[axis] = (0, 1)
        before = np.pad(bad, pad)
        pad[axis] = (1, 0)
        after = np.pad(bad, pad)
        out |= before | after
    return out


def _jsonable(value: Any) -> Any:
    """JSON-safe Python values: numpy turned into lists and scalars, NaN and infinities into None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        if value.dtype == bool:
            return value.tolist()
        if value.dtype.kind in "iu":
            return value.tolist()
        arr = value.astype(np.float64)
        if np.isfinite(arr).all():
            return arr.tolist()
        return _jsonable(arr.astype(object).tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value
