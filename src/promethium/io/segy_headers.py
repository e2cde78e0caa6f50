"""SEG-Y header layouts (rev 0 to 2.1): byte positions, widths and signedness of every field.

Positions are 1-based as in the standard. The trace header fields cover all 240 bytes (the two last
words are kept under neutral names), so that reading then writing reproduces a header byte for byte.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BINARY_FIELDS",
    "SAMPLE_FORMATS",
    "TRACE_FIELDS",
    "binary_dtype",
    "trace_dtype",
]

# (name, 1-based byte position, width in bytes, numpy kind) ; kind: "i" signed, "u" unsigned, "f" float
TRACE_FIELDS: tuple[tuple[str, int, int, str], ...] = (
    ("trace_sequence_line", 1, 4, "i"),
    ("trace_sequence_file", 5, 4, "i"),
    ("field_record", 9, 4, "i"),
    ("trace_number", 13, 4, "i"),
    ("energy_source_point", 17, 4, "i"),
    ("cdp", 21, 4, "i"),
    ("cdp_trace", 25, 4, "i"),
    ("trace_id", 29, 2, "i"),
    ("n_vertical_summed", 31, 2, "i"),
    ("n_horizontal_stacked", 33, 2, "i"),
    ("data_use", 35, 2, "i"),
    ("offset", 37, 4, "i"),
    ("receiver_elevation", 41, 4, "i"),
    ("source_surface_elevation", 45, 4, "i"),
    ("source_depth", 49, 4, "i"),
    ("receiver_datum_elevation", 53, 4, "i"),
    ("source_datum_elevation", 57, 4, "i"),
    ("source_water_depth", 61, 4, "i"),
    ("group_water_depth", 65, 4, "i"),
    ("elevation_scalar", 69, 2, "i"),
    ("coordinate_scalar", 71, 2, "i"),
    ("source_x", 73, 4, "i"),
    ("source_y", 77, 4, "i"),
    ("group_x", 81, 4, "i"),
    ("group_y", 85, 4, "i"),
    ("coordinate_units", 89, 2, "i"),
    ("weathering_velocity", 91, 2, "i"),
    ("subweathering_velocity", 93, 2, "i"),
    ("source_uphole_time", 95, 2, "i"),
    ("group_uphole_time", 97, 2, "i"),
    ("source_static", 99, 2, "i"),
    ("group_static", 101, 2, "i"),
    ("total_static", 103, 2, "i"),
    ("lag_time_a", 105, 2, "i"),
    ("lag_time_b", 107, 2, "i"),
    ("delay_time", 109, 2, "i"),
    ("mute_start", 111, 2, "i"),
    ("mute_end", 113, 2, "i"),
    ("n_samples", 115, 2, "u"),
    ("sample_interval", 117, 2, "i"),
    ("gain_type", 119, 2, "i"),
    ("gain_constant", 121, 2, "i"),
    ("initial_gain", 123, 2, "i"),
    ("correlated", 125, 2, "i"),
    ("sweep_frequency_start", 127, 2, "i"),
    ("sweep_frequency_end", 129, 2, "i"),
    ("sweep_length", 131, 2, "i"),
    ("sweep_type", 133, 2, "i"),
    ("sweep_taper_start", 135, 2, "i"),
    ("sweep_taper_end", 137, 2, "i"),
    ("taper_type", 139, 2, "i"),
    ("alias_filter_frequency", 141, 2, "i"),
    ("alias_filter_slope", 143, 2, "i"),
    ("notch_filter_frequency", 145, 2, "i"),
    ("notch_filter_slope", 147, 2, "i"),
    ("low_cut_frequency", 149, 2, "i"),
    ("high_cut_frequency", 151, 2, "i"),
    ("low_cut_slope", 153, 2, "i"),
    ("high_cut_slope", 155, 2, "i"),
    ("year", 157, 2, "i"),
    ("day_of_year", 159, 2, "i"),
    ("hour", 161, 2, "i"),
    ("minute", 163, 2, "i"),
    ("second", 165, 2, "i"),
    ("time_basis", 167, 2, "i"),
    ("trace_weighting", 169, 2, "i"),
    ("group_number_roll1", 171, 2, "i"),
    ("group_number_first", 173, 2, "i"),
    ("group_number_last", 175, 2, "i"),
    ("gap_size", 177, 2, "i"),
    ("over_travel", 179, 2, "i"),
    ("cdp_x", 181, 4, "i"),
    ("cdp_y", 185, 4, "i"),
    ("inline", 189, 4, "i"),
    ("crossline", 193, 4, "i"),
    ("shotpoint", 197, 4, "i"),
    ("shotpoint_scalar", 201, 2, "i"),
    ("trace_value_unit", 203, 2, "i"),
    ("transduction_mantissa", 205, 4, "i"),
    ("transduction_exponent", 209, 2, "i"),
    ("transduction_unit", 211, 2, "i"),
    ("device_id", 213, 2, "i"),
    ("time_scalar", 215, 2, "i"),
    ("source_type", 217, 2, "i"),
    ("source_energy_direction_vertical", 219, 2, "i"),
    ("source_energy_direction_crossline", 221, 2, "i"),
    ("source_energy_direction_inline", 223, 2, "i"),
    ("source_measurement_mantissa", 225, 4, "i"),
    ("source_measurement_exponent", 229, 2, "i"),
    ("source_measurement_unit", 231, 2, "i"),
    ("unassigned_233", 233, 4, "i"),
    ("unassigned_237", 237, 4, "i"),
)

BINARY_FIELDS: tuple[tuple[str, int, int, str], ...] = (
    ("job_id", 3201, 4, "i"),
    ("line_number", 3205, 4, "i"),
    ("reel_number", 3209, 4, "i"),
    ("traces_per_ensemble", 3213, 2, "i"),
    ("aux_traces_per_ensemble", 3215, 2, "i"),
    ("sample_interval", 3217, 2, "i"),
    ("sample_interval_original", 3219, 2, "i"),
    ("n_samples", 3221, 2, "u"),
    ("n_samples_original", 3223, 2, "u"),
    ("format", 3225, 2, "i"),
    ("ensemble_fold", 3227, 2, "i"),
    ("trace_sorting", 3229, 2, "i"),
    ("vertical_sum", 3231, 2, "i"),
    ("sweep_frequency_start", 3233, 2, "i"),
    ("sweep_frequency_end", 3235, 2, "i"),
    ("sweep_length", 3237, 2, "i"),
    ("sweep_type", 3239, 2, "i"),
    ("sweep_channel", 3241, 2, "i"),
    ("sweep_taper_start", 3243, 2, "i"),
    ("sweep_taper_end", 3245, 2, "i"),
    ("taper_type", 3247, 2, "i"),
    ("correlated", 3249, 2, "i"),
    ("binary_gain_recovered", 3251, 2, "i"),
    ("amplitude_recovery", 3253, 2, "i"),
    ("measurement_system", 3255, 2, "i"),
    ("impulse_polarity", 3257, 2, "i"),
    ("vibratory_polarity", 3259, 2, "i"),
    ("ext_traces_per_ensemble", 3261, 4, "i"),
    ("ext_aux_traces_per_ensemble", 3265, 4, "i"),
    ("ext_n_samples", 3269, 4, "i"),
    ("ext_sample_interval", 3273, 8, "f"),
    ("ext_sample_interval_original", 3281, 8, "f"),
    ("ext_n_samples_original", 3289, 4, "i"),
    ("ext_ensemble_fold", 3293, 4, "i"),
    ("byte_order_constant", 3297, 4, "u"),
    ("revision_major", 3501, 1, "u"),
    ("revision_minor", 3502, 1, "u"),
    ("fixed_length_traces", 3503, 2, "i"),
    ("n_extended_textual_headers", 3505, 2, "i"),
    # rev 2.1 narrows this to two bytes (3507-3508); rev 2.0 files give 0 in the upper half anyway.
    ("max_additional_trace_headers", 3507, 2, "u"),
    ("survey_type", 3509, 2, "i"),
    ("time_basis", 3511, 2, "i"),
    ("n_traces_in_file", 3513, 8, "u"),
    ("first_trace_offset", 3521, 8, "u"),
    ("n_trailer_stanzas", 3529, 4, "i"),
)

#: format code -> (bytes per sample, description)
SAMPLE_FORMATS: dict[int, tuple[int, str]] = {
    1: (4, "4-byte IBM float"),
    2: (4, "4-byte two's complement integer"),
    3: (2, "2-byte two's complement integer"),
    5: (4, "4-byte IEEE float"),
    6: (8, "8-byte IEEE float"),
    7: (3, "3-byte two's complement integer"),
    8: (1, "1-byte two's complement integer"),
    9: (8, "8-byte two's complement integer"),
    10: (4, "4-byte unsigned integer"),
    11: (2, "2-byte unsigned integer"),
    12: (8, "8-byte unsigned integer"),
    15: (3, "3-byte unsigned integer"),
    16: (1, "1-byte unsigned integer"),
}


def _dtype(fields: tuple[tuple[str, int, int, str], ...], base: int, itemsize: int, endian: str) -> np.dtype:
    names, formats, offsets = [], [], []
    for name, pos, width, kind in fields:
        names.append(name)
        formats.append(f"{endian}{kind}{width}" if width > 1 else f"{kind}1")
        offsets.append(pos - base)
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": itemsize})


def trace_dtype(endian: str) -> np.dtype:
    """Structured dtype of one 240-byte trace header in byte order ``endian`` (``>`` or ``<``)."""
    return _dtype(TRACE_FIELDS, 1, 240, endian)


def binary_dtype(endian: str) -> np.dtype:
    """Structured dtype of the 400-byte binary file header in byte order ``endian``."""
    return _dtype(BINARY_FIELDS, 3201, 400, endian)


def native_kind(kind: str, width: int) -> np.dtype:
    """The in-memory dtype a header field is kept at."""
    return np.dtype(f"{kind}{width}")
