"""The operation registry: every operation a pipeline step may name, with a pydantic model of its
parameters (defaults, types, ranges, choices), its JSON Schema, and how it streams.

Streaming modes:

- ``trace``: works trace by trace (filters, AGC, gain, mute, a time taper): streamed chunk by chunk,
  bit for bit equal to a run over the whole data;
- ``spatial``: needs neighbouring traces (reconstruct, denoise, median filter): streamed over
  overlapping trace windows (each chunk read with a halo of traces on both sides, the centre kept);
- ``global``: needs the whole data at once (f-k filter, a trace-axis taper, metrics, method comparison):
  the pipeline runs in memory;
- ``analysis``: computes a result and passes the data through unchanged (QC: per chunk when streaming);
- ``sink``: writes the data where the step says and passes it through (``write``).

Operation names are short (``filter``, ``reconstruct``) and may be written qualified (``signal.filter``,
``io.write``, ``ml.reconstruct_unet``). Machine-learning operations are registered only when
:mod:`promethium.ml` provides them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from promethium.core.errors import ParameterError
from promethium.io.data import SeismicData
from promethium.workflows.context import InputInfo, OpContext

__all__ = [
    "Operation",
    "get_operation",
    "list_operations",
    "operation_schemas",
]

Mode = Literal["trace", "spatial", "global", "analysis", "sink"]

FILTER_KINDS = ("lowpass", "highpass", "bandpass", "bandstop", "notch")
DESIGNS = ("butter", "cheby1", "cheby2", "ellip", "fir_window", "fir_ls")


class Params(BaseModel):
    """Base of every parameter model: unknown names are errors; values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


@dataclass(frozen=True)
class Operation:
    """One registered operation.

    ``run(data, params, ctx) -> data``: ``params`` is the validated model. ``halo(params, info) ->
    (traces, align)``: for ``spatial`` ops, the traces of context needed on each side of a streamed chunk
    and the trace grid that chunk starts must fall on for the result to equal an in-memory run
    (``align`` 1 when any start will do); ``None`` when no halo gives an exact result (the streamed result
    then differs near chunk edges and ``exact_streaming`` is False). ``check(params, info)``: checks
    that need the input's headers (Nyquist, window sizes), run before any sample is read.
    """

    name: str
    family: Literal["io", "signal", "ml", "analysis"]
    description: str
    adapter: TypeAdapter[Any]
    run: Callable[[SeismicData, Any, OpContext], SeismicData]
    mode: Mode
    halo: Callable[[Any, InputInfo], tuple[int, int]] | None = None
    check: Callable[[Any, InputInfo], None] | None = None
    finalize: Callable[[list[Any], OpContext], None] | None = None
    needs_reference: bool = False
    mode_for: Callable[[Any], Mode] | None = None
    exact_streaming: Callable[[Any, InputInfo], bool] | None = None
    defaults: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def validate(self, params: Mapping[str, Any] | None) -> Any:
        """The parameter model for ``params`` (raises :class:`pydantic.ValidationError`)."""
        raw = dict(params or {})
        if self.defaults is not None:
            raw = self.defaults(raw)
        return self.adapter.validate_python(raw)

    def dump(self, params: Any) -> dict[str, Any]:
        """Every parameter, defaults included, as JSON-ready values (what the provenance records)."""
        return dict(self.adapter.dump_python(params, mode="json"))

    def streaming_mode(self, params: Any) -> Mode:
        return self.mode_for(params) if self.mode_for is not None else self.mode

    def schema(self) -> dict[str, Any]:
        return self.adapter.json_schema()

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "streaming": self.mode,
            "needs_reference": self.needs_reference,
            "parameters": self.schema(),
        }


# ============================================================================================ helpers
def _kwargs(params: BaseModel, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The model's fields as keyword arguments (python objects: tuples stay tuples)."""
    return {k: getattr(params, k) for k in type(params).model_fields if k not in drop}


def _check_param(step_param: str, fn: Callable[[], Any]) -> None:
    """Run a library check; a :class:`ParameterError` keeps its parameter name for the spec error."""
    try:
        fn()
    except ParameterError:
        raise
    except ValueError as exc:
        raise ParameterError(step_param, str(exc)) from exc


# ============================================================================================ filters
class FilterParams(Params):
    """Frequency filter of every trace (:func:`promethium.signal.filter`)."""

    kind: Literal["lowpass", "highpass", "bandpass", "bandstop", "notch"] = Field(
        "bandpass", description="Filter type."
    )
    low: float | None = Field(None, gt=0, description="Low corner (Hz); bandpass/bandstop/highpass/notch.")
    high: float | None = Field(None, gt=0, description="High corner (Hz); bandpass/bandstop/lowpass.")
    order: int = Field(4, ge=1, le=16, description="IIR order (per pass).")
    design: Literal["butter", "cheby1", "cheby2", "ellip", "fir_window", "fir_ls"] = "butter"
    phase: Literal["zero", "minimum"] = Field("zero", description="zero: forward-backward; minimum: causal.")
    ripple: float = Field(1.0, gt=0, description="Passband ripple (dB), Chebyshev I / elliptic.")
    attenuation: float = Field(60.0, gt=0, description="Stopband attenuation (dB).")
    numtaps: int | None = Field(None, ge=3, description="FIR length (odd); default from the transition.")
    notch_q: float = Field(30.0, gt=0, description="Quality factor of a notch.")
    engine: Literal["auto", "fast", "fft", "scipy"] = "auto"
    device: str | None = Field(None, description="None/'cpu', 'cuda', 'cuda:N' or 'auto'.")

    @field_validator("high")
    @classmethod
    def _above_low(cls, high: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("low")
        if high is not None and low is not None and low >= high:
            raise ValueError(f"must be above low ({low} Hz), got {high} Hz")
        return high

    @model_validator(mode="after")
    def _corners(self) -> FilterParams:
        need = {
            "bandpass": ("low", "high"),
            "bandstop": ("low", "high"),
            "lowpass": ("high",),
            "highpass": ("low",),
            "notch": ("low",),
        }[self.kind]
        missing = [n for n in need if getattr(self, n) is None]
        if missing and not (self.kind == "notch" and self.high is not None):
            raise ValueError(f"a {self.kind} filter needs {' and '.join(missing)}")
        return self


def _run_filter(data: SeismicData, p: FilterParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.filters import filter as sfilter

    kw = _kwargs(p, drop=("kind",))
    return sfilter(data, p.kind, **kw)


def _check_filter(p: FilterParams, info: InputInfo) -> None:
    from promethium.signal.filters import design_filter

    if info.sample_unit != "ms":
        return
    _check_param(
        "low",
        lambda: design_filter(
            p.kind,
            dt_ms=info.sample_interval,
            low=p.low,
            high=p.high,
            order=p.order,
            design=p.design,
            phase=p.phase,
            ripple=p.ripple,
            attenuation=p.attenuation,
            numtaps=p.numtaps,
            notch_q=p.notch_q,
        ),
    )


class AgcParams(Params):
    """Automatic gain control (:func:`promethium.signal.agc`)."""

    window_ms: float = Field(500.0, gt=0, description="Sliding window length (ms).")
    kind: Literal["rms", "mean", "instantaneous"] = "rms"


def _run_agc(data: SeismicData, p: AgcParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.filters import agc

    return agc(data, p.window_ms, kind=p.kind)


class GainParams(Params):
    """Gain recovery, ``t ** power`` or ``exp(alpha t)`` (:func:`promethium.signal.gain`)."""

    kind: Literal["tpow", "exp"] = "tpow"
    power: float = 2.0
    alpha: float = 1.0


def _run_gain(data: SeismicData, p: GainParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.filters import gain

    return gain(data, p.kind, power=p.power, alpha=p.alpha)


class MuteParams(Params):
    """Top or bottom mute at a fixed time or along a linear moveout (:func:`promethium.signal.mute`)."""

    kind: Literal["top", "bottom"] = "top"
    times_ms: float | None = Field(None, ge=0, description="Mute time (ms) of every trace.")
    velocity: float | None = Field(None, gt=0, description="Moveout velocity (m/s), with the offsets.")
    t0_ms: float = 0.0
    taper_ms: float = Field(20.0, ge=0)

    @model_validator(mode="after")
    def _one_of(self) -> MuteParams:
        if (self.times_ms is None) == (self.velocity is None):
            raise ValueError("give either times_ms or velocity, not both or neither")
        return self


def _run_mute(data: SeismicData, p: MuteParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.filters import mute

    return mute(data, p.kind, times_ms=p.times_ms, velocity=p.velocity, t0_ms=p.t0_ms, taper_ms=p.taper_ms)


class TaperParams(Params):
    """Taper the ends of the time axis or of the trace axes (:func:`promethium.signal.taper`)."""

    axis: Literal["time", "trace"] = "time"
    length: int | None = Field(None, ge=0, description="Samples (or traces) tapered; default 10%.")
    kind: Literal["hann", "cosine", "linear"] = "hann"
    ends: Literal["both", "start", "end"] = "both"


def _run_taper(data: SeismicData, p: TaperParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.filters import taper

    return taper(data, p.axis, length=p.length, kind=p.kind, ends=p.ends)


class MedianParams(Params):
    """Median filter or Hampel despiking (:func:`promethium.signal.median_filter`)."""

    size: int | list[int] = Field(default_factory=lambda: [3, 3], description="Window (traces, samples).")
    threshold: float | None = Field(None, gt=0, description="Despike: robust sigmas; None: plain median.")
    mode: Literal["reflect", "nearest", "mirror", "constant", "wrap"] = "reflect"


def _run_median(data: SeismicData, p: MedianParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.filters import median_filter

    size: Any = tuple(p.size) if isinstance(p.size, list) else p.size
    return median_filter(data, size, threshold=p.threshold, mode=p.mode)


def _median_halo(p: MedianParams, info: InputInfo) -> tuple[int, int]:
    first = p.size if isinstance(p.size, int) else p.size[0]
    return int(first) // 2 + 1, 1


class FkParams(Params):
    """f-k (dip) filter over the trace axis (:func:`promethium.signal.fk_filter`)."""

    kind: Literal["pass", "reject"] = "reject"
    dips: tuple[float, float] | None = Field(None, description="Dip range (ms per trace).")
    velocities: tuple[float, float] | None = Field(None, description="Apparent velocities (m/s).")
    trace_spacing: float | None = Field(None, gt=0, description="Trace spacing (m), with velocities.")
    taper: float | None = Field(None, ge=0)
    pad: float = Field(0.5, ge=0)

    @model_validator(mode="after")
    def _one_of(self) -> FkParams:
        if (self.dips is None) == (self.velocities is None):
            raise ValueError("give either dips or velocities, not both or neither")
        return self


def _run_fk(data: SeismicData, p: FkParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.filters import fk_filter

    return fk_filter(data, **_kwargs(p))


# ====================================================================== reconstruction and denoising
WindowSpec = list[Annotated[int, Field(ge=2)] | None] | Annotated[int, Field(ge=2)] | None
OverlapSpec = list[Annotated[float, Field(ge=0)] | None] | Annotated[float, Field(ge=0)] | None


def _type_of_default(name: str, value: Any) -> Any:
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        return int
    if isinstance(value, float):
        return float
    if isinstance(value, str):
        return str
    if isinstance(value, tuple):
        kinds = {type(v) for v in value}
        inner: Any = float if kinds <= {int, float} else Any
        return tuple[inner, ...]
    if value is None:
        return float | None if name in ("low", "high") else Any
    return Any


def _method_models(kind: Literal["reconstruct", "denoise"]) -> tuple[list[type[BaseModel]], str]:
    from promethium.signal.reconstruction._registry import get_method, list_methods

    models: list[type[BaseModel]] = []
    names = list_methods(kind)
    for name in names:
        m = get_method(name, kind)
        fields: dict[str, Any] = {
            "method": (Literal[name], Field(name, description=m.description)),
            "window": (
                WindowSpec,
                Field(
                    None,
                    description=(
                        "Window sizes per axis (trace axes then time; null = whole axis; one int = the "
                        f"trace axes); default {list(m.window_2d)} (2D), {list(m.window_3d)} (3D)."
                    ),
                ),
            ),
            "overlap": (
                OverlapSpec,
                Field(None, description="Overlaps per axis (samples, or a fraction below 1); default 1/4."),
            ),
            "workers": (
                int | None,
                Field(
                    None, ge=1, description="Windows run in parallel (threads); the result does not change."
                ),
            ),
        }
        for pname, default in m.params.items():
            fields[pname] = (_type_of_default(pname, default), default)
        title = f"{kind}_{name}"
        model = create_model(title, __base__=Params, **fields)
        model.__doc__ = f"{kind} with method {name!r}: {m.description}"
        models.append(model)
    return models, names[0] if names else ""


def _method_adapter(kind: Literal["reconstruct", "denoise"]) -> TypeAdapter[Any]:
    models, _ = _method_models(kind)
    if len(models) == 1:
        return TypeAdapter(models[0])
    union: Any = Annotated[Union[tuple(models)], Field(discriminator="method")]  # noqa: UP007
    return TypeAdapter(union)


def _method_defaults(default: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def fill(raw: dict[str, Any]) -> dict[str, Any]:
        method = raw.get("method", default)
        if isinstance(method, str):
            method = method.strip().lower().replace("-", "_")
        return {**raw, "method": method}

    return fill


def _run_windowed(kind: Literal["reconstruct", "denoise"]) -> Callable[[SeismicData, Any, OpContext], Any]:
    def run(data: SeismicData, p: Any, ctx: OpContext) -> SeismicData:
        from promethium.signal.reconstruction import denoise, reconstruct

        fn = reconstruct if kind == "reconstruct" else denoise
        kw = _kwargs(p, drop=("method", "window", "overlap", "workers"))

        def progress(done: int, total: int) -> None:
            ctx.report(done / max(1, total), f"window {done}/{total}")

        return fn(
            data, p.method, window=p.window, overlap=p.overlap, progress=progress, workers=p.workers, **kw
        )

    return run


def _plan_trace_axis(p: Any, kind: str, info: InputInfo) -> tuple[int, int] | None:
    """(size, overlap) of the windows along the first trace axis; None when it is the whole axis."""
    from promethium.signal.reconstruction import _window_args
    from promethium.signal.reconstruction._registry import get_method
    from promethium.signal.reconstruction._windows import plan_windows

    m = get_method(p.method, kind)  # type: ignore[arg-type]
    ndim = 3 if info.is_3d else 2
    sizes, ov = _window_args(m, ndim, p.window, p.overlap)
    if sizes[0] is None:
        return None
    plan = plan_windows(info.shape, sizes, ov)
    return plan.sizes[0], plan.overlaps[0]


def _windowed_halo(kind: str) -> Callable[[Any, InputInfo], tuple[int, int]]:
    def halo(p: Any, info: InputInfo) -> tuple[int, int]:
        axis = _plan_trace_axis(p, kind, info)
        if axis is None:
            # The whole trace axis at once (linear, nearest, dip): local enough in practice.
            return 64, 1
        size, overlap = axis
        step = max(1, size - overlap)
        return (math.ceil(size / step) + 1) * step, step

    return halo


def _windowed_exact(kind: str) -> Callable[[Any, InputInfo], bool]:
    def exact(p: Any, info: InputInfo) -> bool:
        return _plan_trace_axis(p, kind, info) is not None

    return exact


def _windowed_check(kind: str) -> Callable[[Any, InputInfo], None]:
    def check(p: Any, info: InputInfo) -> None:
        from promethium.signal.reconstruction import _params, _window_args
        from promethium.signal.reconstruction._registry import get_method
        from promethium.signal.reconstruction._windows import plan_windows

        m = get_method(p.method, kind)  # type: ignore[arg-type]
        ndim = 3 if info.is_3d else 2
        if info.dims_known and ndim not in m.dims:
            raise ParameterError("method", f"{p.method!r} does not work on {ndim}D data")
        sizes, ov = _window_args(m, ndim, p.window, p.overlap)
        if info.dims_known:
            plan_windows(info.shape, sizes, ov)
        _params(m, _kwargs(p, drop=("method", "window", "overlap", "workers")))

    return check


# ================================================================================ analysis operations
class QcParams(Params):
    """Quality-control report (:func:`promethium.signal.qc`); the data pass through unchanged."""

    dead_threshold: float = Field(1e-3, ge=0)
    clip_fraction: float = Field(0.002, ge=0, le=1)
    clip_run: int = Field(2, ge=2)
    noisy_sigma: float = Field(6.0, gt=0)
    polarity_threshold: float = Field(0.4, gt=0, lt=1)
    neighbours: int = Field(5, ge=1)
    max_lag_ms: float = Field(12.0, ge=0)
    spacing_tolerance: float = Field(0.1, ge=0)


def _run_qc(data: SeismicData, p: QcParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.quality import qc

    report = qc(data, **_kwargs(p))
    if ctx.streaming:
        summary = report.to_dict(traces=False)["summary"]
        ctx.partials.setdefault(ctx.step, []).append({"chunk": list(ctx.chunk or ()), "summary": summary})
        ctx.artifacts.setdefault(ctx.step, report)
    else:
        ctx.artifacts[ctx.step] = report
        ctx.results[ctx.step] = report.to_dict(traces=False)
    return data


def _finalize_qc(partials: list[Any], ctx: OpContext) -> None:
    """Streaming QC: per-chunk summaries, with the counts (``n_*``) summed over the chunks."""
    totals: dict[str, Any] = {}
    for part in partials:
        for k, v in part["summary"].items():
            if k.startswith("n_") and isinstance(v, int) and not isinstance(v, bool):
                totals[k] = totals.get(k, 0) + v
    ctx.results[ctx.step] = {
        "summary": totals,
        "streamed": True,
        "note": "QC ran chunk by chunk: thresholds are relative to each chunk; counts are summed.",
        "chunks": partials,
    }


class MetricsParams(Params):
    """Compare the data with the pipeline's reference (:func:`promethium.signal.metrics.compare`):
    SNR, SNR over the traces the input lacked, PSNR, SSIM, MSE, f-k coherence."""

    live_mask: Literal["input", "none"] = Field(
        "input", description="input: snr_missing over the traces the pipeline input lacked."
    )


def _run_metrics(data: SeismicData, p: MetricsParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.metrics import compare

    if ctx.reference is None:
        raise ParameterError("reference", "the metrics step needs the pipeline's 'reference' input")
    ref: SeismicData = ctx.reference
    if ref.shape != data.shape:
        raise ParameterError("reference", f"has shape {ref.shape}, the data {data.shape}")
    live = ctx.artifacts.get("__input_mask__") if p.live_mask == "input" else None
    if live is not None and (live.shape != data.shape[:-1] or live.all()):
        live = None  # nothing was missing: no snr_missing
    ctx.results[ctx.step] = compare(ref, data, live)
    return data


class EvaluateParams(Params):
    """Compare reconstruction methods by hiding traces of the (complete) data and scoring each method
    on filling them (:func:`promethium.signal.evaluate`); the data pass through unchanged."""

    methods: list[str] = Field(default_factory=lambda: ["linear", "pocs"], min_length=1)
    decimate: str = Field("random:0.5", description="Which traces to hide: random:F, regular:K, gaps:...")
    seed: int | None = Field(None, description="Seed of the decimation; default the pipeline seed.")
    params: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Per-method parameters.")


def _run_evaluate(data: SeismicData, p: EvaluateParams, ctx: OpContext) -> SeismicData:
    from promethium.signal.evaluation import evaluate

    seed = ctx.seed if p.seed is None else p.seed
    n = len(p.methods)

    def progress(method: str, index: int, total: int) -> None:
        ctx.report(index / max(1, total), f"method {method} ({index + 1}/{n})")

    ev = evaluate(data, p.methods, decimate=p.decimate, seed=seed, params=p.params, progress=progress)
    ctx.artifacts[ctx.step] = ev
    ctx.results[ctx.step] = ev.to_dict()
    return data


def _check_evaluate(p: EvaluateParams, info: InputInfo) -> None:
    from promethium.signal.masks import parse_mask_spec
    from promethium.signal.reconstruction._registry import get_method

    for i, name in enumerate(p.methods):
        try:
            get_method(name, "reconstruct")
        except ParameterError as exc:
            raise ParameterError(f"methods.{i}", exc.reason, allowed=exc.allowed) from exc
    unknown = sorted(set(p.params) - set(p.methods))
    if unknown:
        raise ParameterError(f"params.{unknown[0]}", "is not one of the methods compared")
    _check_param("decimate", lambda: parse_mask_spec(p.decimate))


# ============================================================================================== io
class WriteParams(Params):
    """Write the data as they are at this point (:func:`promethium.io.write`, atomic); they pass through.

    The format comes from the extension unless ``format`` is given."""

    path: str = Field(..., min_length=1, description="Output path or URL.")
    format: str | None = Field(None, description="segy, su, mseed, sac or zarr; default from the extension.")


def _run_write(data: SeismicData, p: WriteParams, ctx: OpContext) -> SeismicData:
    from promethium import io as pio

    pio.write(data, p.path, p.format, overwrite=ctx.overwrite)
    ctx.written[p.path] = p.format or ""
    return data


# ============================================================================================== ml
class MlReconstructParams(Params):
    """Reconstruct missing traces with a trained network (:func:`promethium.ml.reconstruct`)."""

    model_config = ConfigDict(extra="allow", validate_assignment=True, protected_namespaces=())

    model: str = Field("unet", description="Model name or checkpoint path.")
    device: str | None = Field(
        "auto", description="'auto' (a GPU when there is one, else the CPU), 'cpu', 'cuda' or 'cuda:N'."
    )


def _run_ml_reconstruct(data: SeismicData, p: MlReconstructParams, ctx: OpContext) -> SeismicData:
    import promethium.ml as ml

    kw = p.model_dump()
    kw["device"] = kw.get("device") or "auto"  # null in a spec means the default
    return ml.reconstruct(data, **kw)


def _ml_halo(p: MlReconstructParams, info: InputInfo) -> tuple[int, int]:
    """Streamed inference reads each chunk with one inference window of neighbouring traces on either
    side, so that every filled trace sees the same context as in a whole-section run."""
    from promethium.ml.infer import DEFAULT_PATCH

    patch = getattr(p, "patch", None)
    return (int(patch[0]) if patch else DEFAULT_PATCH[0]), 1


def _ml_available() -> bool:
    try:
        import promethium.ml as ml
    except Exception:
        return False
    return callable(getattr(ml, "reconstruct", None))


# ========================================================================================== registry
def _op(
    name: str,
    family: Literal["io", "signal", "ml", "analysis"],
    model: Any,
    run: Callable[..., SeismicData],
    mode: Mode,
    **kw: Any,
) -> Operation:
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    doc = kw.pop("description", None) or (getattr(model, "__doc__", None) or "").strip()
    return Operation(
        name=name, family=family, description=" ".join(doc.split()), adapter=adapter, run=run, mode=mode, **kw
    )


@functools.cache
def _registry() -> dict[str, Operation]:
    ops = [
        _op("filter", "signal", FilterParams, _run_filter, "trace", check=_check_filter),
        _op("agc", "signal", AgcParams, _run_agc, "trace"),
        _op("gain", "signal", GainParams, _run_gain, "trace"),
        _op("mute", "signal", MuteParams, _run_mute, "trace"),
        _op(
            "taper",
            "signal",
            TaperParams,
            _run_taper,
            "trace",
            mode_for=lambda p: "trace" if p.axis == "time" else "global",
        ),
        _op("median_filter", "signal", MedianParams, _run_median, "spatial", halo=_median_halo),
        _op("fk_filter", "signal", FkParams, _run_fk, "global"),
    ]
    for kind in ("reconstruct", "denoise"):
        _, default = _method_models(kind)
        ops.append(
            _op(
                kind,
                "signal",
                _method_adapter(kind),
                _run_windowed(kind),
                "spatial",
                description=(
                    "Fill the missing and dead traces (those the trace mask marks) with a classical method "
                    "(promethium.signal.reconstruct); live traces are kept exactly."
                    if kind == "reconstruct"
                    else "Attenuate random noise (promethium.signal.denoise); dead traces stay dead."
                ),
                halo=_windowed_halo(kind),
                exact_streaming=_windowed_exact(kind),
                check=_windowed_check(kind),
                defaults=_method_defaults(default),
            )
        )
    ops += [
        _op("qc", "analysis", QcParams, _run_qc, "analysis", finalize=_finalize_qc),
        _op("metrics", "analysis", MetricsParams, _run_metrics, "global", needs_reference=True),
        _op("evaluate", "analysis", EvaluateParams, _run_evaluate, "global", check=_check_evaluate),
        _op("write", "io", WriteParams, _run_write, "sink"),
    ]
    if _ml_available():
        ops.append(
            _op(
                "reconstruct_unet",
                "ml",
                MlReconstructParams,
                _run_ml_reconstruct,
                "spatial",
                halo=_ml_halo,
            )
        )
    return {op.name: op for op in ops}


_PREFIXES = ("signal.", "io.", "ml.", "analysis.", "promethium.")


def canonical_name(name: str) -> str:
    """``"signal.filter"`` / ``"Filter"`` / ``"median-filter"`` -> the registry key."""
    key = str(name).strip().lower().replace("-", "_")
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key = key[len(prefix) :]
                changed = True
    return key


def get_operation(name: str) -> Operation:
    """The operation called ``name`` (short or qualified); :class:`ParameterError` when unknown."""
    ops = _registry()
    op = ops.get(canonical_name(name))
    if op is None:
        raise ParameterError("op", f"unknown operation {name!r}", allowed=", ".join(sorted(ops)))
    return op


def list_operations() -> list[str]:
    """Names of the registered operations."""
    return sorted(_registry())


def operation_schemas() -> dict[str, dict[str, Any]]:
    """For every operation: family, description, streaming mode and the JSON Schema of its parameters
    (what the web app builds its job forms from)."""
    return {name: op.describe() for name, op in sorted(_registry().items())}
