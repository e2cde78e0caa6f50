"""Signal processing and classical reconstruction (filters, transforms, spectra, QC).

The operations arrive with the signal-processing issue; the package exists so that the public layout
of Promethium is fixed from the first release.
"""

__all__: list[str] = []
