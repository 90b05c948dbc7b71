"""Workflows: jobs over many products (archive runs on Dask), between the Processing algorithms and the core.

A workflow may import ``core`` and, lazily inside functions, ``model`` (torch may be absent); never ``qgis``,
so the same job runs from ``python -m smapdown.workflows.<name>`` on machines without QGIS.
"""
