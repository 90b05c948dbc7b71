"""The provider and its algorithms under real QGIS (pytest-qgis)."""

from __future__ import annotations

from qgis.core import QgsApplication

EXPECTED = {"loadsmap": "data", "loadmodis": "data", "simulate": "training", "train": "training",
            "downscale": "downscaling", "soilmoisture": "soilmoisture", "difference": "evaluation"}


def test_provider_registered_once_with_groups(provider):
    import smapdown

    again = smapdown.classFactory(None)
    again.initGui()  # a second registration must be a no-op, not a second provider
    assert provider is not None
    assert provider.name() == "smapdown"
    assert not provider.icon().isNull()
    algs = {a.name(): a for a in provider.algorithms()}
    for name, group in EXPECTED.items():
        assert name in algs, f"{name} missing from provider"
        assert algs[name].groupId() == group
        assert algs[name].shortHelpString()
        for p in algs[name].parameterDefinitions():
            assert p.name().isupper(), p.name()
            assert p.help(), f"{name}.{p.name()} has no help"
    ids = [p.id() for p in QgsApplication.processingRegistry().providers()]
    assert ids.count("smapdown") == 1
