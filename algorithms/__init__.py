"""Processing algorithms of smapdown: thin QGIS glue over the QGIS-free core."""

# (module, class) of every algorithm the provider offers; imported one by one at load time.
ALGORITHMS: list[tuple[str, str]] = [
    ("load_smap", "LoadSmapAlgorithm"),
    ("load_modis", "LoadModisAlgorithm"),
    ("simulate", "SimulateAlgorithm"),
    ("train", "TrainAlgorithm"),
    ("downscale", "DownscaleAlgorithm"),
    ("soil_moisture", "SoilMoistureAlgorithm"),
    ("difference", "DifferenceAlgorithm"),
]
