"""Declarative processing pipelines shared by the CLI, the API and the workers.

Populated by the workflows issue.
"""

__all__: list[str] = []
