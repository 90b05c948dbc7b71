"""The downscaling CNN: network, safe model files, training on arrays and tiled inference.

Imports torch and numpy only (no QGIS, no GDAL), so it runs in scripts, tests and Processing alike.
"""

from .inference import predict_tiled, resolve_device, upsample, upsample_bicubic
from .io import ModelError, load_model, save_model, write_card_json
from .network import DownscaleCNN
from .train import TrainConfig, TrainingData, TrainResult, split_by_date, train

__all__ = [
    "DownscaleCNN", "ModelError", "TrainConfig", "TrainResult", "TrainingData", "load_model",
    "predict_tiled", "resolve_device", "save_model", "split_by_date", "train",
    "upsample", "upsample_bicubic", "write_card_json",
]
