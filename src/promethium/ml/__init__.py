"""Deep-learning reconstruction and denoising (models, training, inference).

Populated by the machine-learning issue; torch is imported only inside this package, on demand.
"""

__all__: list[str] = []
