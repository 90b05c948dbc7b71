"""Tests of the CNN package: structure, model files, tiled inference, training, bicubic helpers.

Everything uses tiny networks and small synthetic rasters (the synthetic task is built by ``synth`` below:
target = bicubic input + a fixed fine-scale pattern that an auxiliary input band reveals).
"""

import dataclasses
import datetime
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from smapdown.core.errors import Canceled, InputError
from smapdown.core.feedback import Feedback
from smapdown.model import (
    DownscaleCNN,
    ModelError,
    TrainConfig,
    TrainingData,
    load_model,
    predict_tiled,
    resolve_device,
    save_model,
    split_by_date,
    train,
    upsample,
    upsample_bicubic,
    write_card_json,
)
from smapdown.model.io import Band, Location, ModelCard, Normalisation, read_card
from smapdown.model.network import DualConv

TINY = dict(features=8, groups=2)


def synth(n_days: int = 10, size: int = 48, seed: int = 0) -> TrainingData:
    """Bicubic TB V/H + a static fine band e; targets = TB V + 3 e, TB H - 2 e; a few NaN holes."""
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((size, size)).astype(np.float32)
    xs, ys = [], []
    for d in range(n_days):
        coarse = rng.normal(0, 10, (2, size // 8, size // 8)) + np.array([250.0, 200.0])[:, None, None]
        smooth = upsample_bicubic(coarse, 8)
        x = np.concatenate([smooth, e[None]], 0)
        y = np.stack([smooth[0] + 3 * e, smooth[1] - 2 * e])
        if d % 3 == 1:
            x[:2, :10, :20] = np.nan
            y[:, 30:, 40:] = np.nan
        xs.append(x)
        ys.append(y)
    dates = [datetime.date(2020, 1, 1) + datetime.timedelta(days=i) for i in range(n_days)]
    return TrainingData(np.stack(xs), np.stack(ys), dates, ["tbv_bicubic", "tbh_bicubic", "elev"],
                        ["tbv", "tbh"], ["K", "K", "m"], ["K", "K"])


def tiny_card(model: DownscaleCNN, rng: np.random.Generator | None = None) -> ModelCard:
    rng = rng or np.random.default_rng(1)
    n_in, n_out = model.in_channels, model.out_channels
    in_mean = tuple(float(v) for v in rng.uniform(100, 300, n_in))
    in_std = tuple(float(v) for v in rng.uniform(5, 20, n_in))
    return ModelCard.for_network(
        model.config, inputs=[Band(f"in{i}", "K", "residual") for i in range(n_in)],
        outputs=[Band(f"out{i}", "K", "target") for i in range(n_out)],
        input_norm=Normalisation(in_mean, in_std), output_norm=Normalisation(in_mean[:n_out], in_std[:n_out]),
        training={"note": "random weights"}, code_version="test")


def random_net(**kw) -> DownscaleCNN:
    torch.manual_seed(3)
    net = DownscaleCNN(**{**TINY, **kw}).eval()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.bias.uniform_(-0.5, 0.5)
    return net


# ---------------------------------------------------------------- network


def test_default_net_structure_and_parameter_count():
    net = DownscaleCNN()
    layers = [m for m in net.modules() if isinstance(m, DualConv)]
    assert len(net.body) == 7 and len(layers) == 7
    for layer in layers:
        assert layer.conv.kernel_size == (3, 3) and layer.conv.dilation == (1, 1)
        assert layer.dilated.kernel_size == (3, 3) and layer.dilated.dilation == (2, 2)
        assert layer.conv.out_channels == layer.dilated.out_channels == 64
    assert net.head.kernel_size == (3, 3) and net.head.out_channels == 2
    F, n_in, n_out, L = 64, 2, 2, 7
    expected = (2 * (n_in * 9 * F + F)                        # first layer: two branches
                + (L - 1) * 2 * (2 * F * 9 * F + F)           # later layers see 2F channels
                + (2 * F * 9 * n_out + n_out))                # output conv
    assert sum(p.numel() for p in net.parameters()) == expected == 890242
    assert 2 * net.macs_per_pixel == pytest.approx(1.78e6, rel=0.01)
    assert net.receptive_radius == 15


def test_forward_shapes_and_channel_check():
    net = DownscaleCNN()
    assert net(torch.zeros(1, 2, 32, 24)).shape == (1, 2, 32, 24)
    sm = DownscaleCNN(in_channels=4, out_channels=1, residual=False, **TINY)
    assert sm(torch.zeros(3, 4, 17, 9)).shape == (3, 1, 17, 9)
    assert sm.receptive_radius == 2 * 2 + 1
    with pytest.raises(InputError):
        net(torch.zeros(1, 3, 8, 8))
    with pytest.raises(InputError):
        DownscaleCNN(in_channels=1, out_channels=2)


def test_residual_is_identity_with_zeroed_output_conv():
    net = DownscaleCNN(in_channels=3, **TINY)
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.zero_()
    x = torch.randn(2, 3, 20, 20)
    assert torch.equal(net(x), x[:, :2])


# ---------------------------------------------------------------- model files


def test_save_load_round_trip(tmp_path):
    net = random_net(in_channels=3)
    card = tiny_card(net)
    path = tmp_path / "m.pt"
    save_model(path, net, card)
    loaded, card2 = load_model(path)
    assert card2 == card and not loaded.training
    for k, v in net.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k])
    x = torch.randn(1, 3, 16, 16)
    assert torch.equal(net(x), loaded(x))
    write_card_json(tmp_path / "m.card.json", card2)
    assert json.loads((tmp_path / "m.card.json").read_text())["architecture"]["kwargs"]["features"] == 8
    assert not list(tmp_path.glob(".*tmp*"))


def _write_payload(path, card, state, fmt="smapdown-model"):
    torch.save({"format": fmt, "format_version": 1, "card": json.dumps(card), "state_dict": state}, path)


def test_card_and_weights_mismatch_raise_model_error(tmp_path):
    net = random_net()
    card = tiny_card(net)
    bad = card.to_dict()
    bad["architecture"]["kwargs"]["features"] = 16
    _write_payload(tmp_path / "wider.pt", bad, net.state_dict())
    with pytest.raises(ModelError, match=r"wider\.pt.*shape mismatch"):
        load_model(tmp_path / "wider.pt")
    state = dict(net.state_dict())
    state.pop("head.bias")
    state["extra.weight"] = torch.zeros(1)
    _write_payload(tmp_path / "keys.pt", card.to_dict(), state)
    with pytest.raises(ModelError, match=r"keys\.pt.*missing 1 .*head\.bias.*unexpected"):
        load_model(tmp_path / "keys.pt")
    nocard = {k: v for k, v in card.to_dict().items() if k != "normalisation"}
    _write_payload(tmp_path / "nocard.pt", nocard, net.state_dict())
    with pytest.raises(ModelError, match=r"nocard\.pt.*normalisation"):
        load_model(tmp_path / "nocard.pt")
    _write_payload(tmp_path / "other.pt", card.to_dict(), net.state_dict(), fmt="something-else")
    with pytest.raises(ModelError, match=r"other\.pt.*not a smapdown-model"):
        load_model(tmp_path / "other.pt")
    with pytest.raises(ModelError, match=r"absent\.pt"):
        load_model(tmp_path / "absent.pt")
    (tmp_path / "junk.pt").write_text("not a model")
    with pytest.raises(ModelError, match=r"junk\.pt could not be read"):
        load_model(tmp_path / "junk.pt")
    assert issubclass(ModelError, InputError)


class _Evil:
    """Unpickling this would create a file (builtins.open with mode 'w')."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_crafted_pickle_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    net = random_net()
    evil = tmp_path / "evil.pt"
    torch.save({"format": "smapdown-model", "format_version": 1, "card": tiny_card(net).to_json(),
                "state_dict": net.state_dict(), "x": _Evil(marker)}, evil)
    legacy = tmp_path / "evil.pkl"
    with open(legacy, "wb") as f:
        pickle.dump(_Evil(marker), f, protocol=2)
    for path in (evil, legacy):
        with pytest.raises(ModelError, match=r"evil\.(pt|pkl) was refused.*io\.open.*nothing in it was executed"):
            load_model(path)
        assert not marker.exists()
    # the file really is malicious: an unrestricted load runs the payload
    proof = tmp_path / "proof"
    torch.save({"x": _Evil(proof)}, tmp_path / "proof.pt")
    torch.load(tmp_path / "proof.pt", weights_only=False)
    assert proof.exists()


# ---------------------------------------------------------------- inference


def test_tiled_equals_untiled_and_nan_follows_inputs():
    net = random_net(in_channels=3, groups=3)
    card = tiny_card(net)
    rng = np.random.default_rng(5)
    x = (rng.normal(0, 10, (3, 70, 53)) + np.array([250, 200, 50])[:, None, None]).astype(np.float32)
    x[0, 5:9, 40:50] = np.nan      # residual band missing -> output NaN
    x[2, 30:40, 10:20] = np.nan    # auxiliary band missing -> filled, output valid
    whole = predict_tiled(net, card, x, tile=128, device="cpu")
    tiled = predict_tiled(net, card, x, tile=16, device="cpu")
    assert whole.shape == (2, 70, 53) and whole.dtype == np.float32
    assert np.array_equal(np.isnan(whole), np.isnan(tiled))
    assert np.nanmax(np.abs(whole - tiled)) < 1e-4
    assert np.isnan(whole[:, 5:9, 40:50]).all() and np.isfinite(whole[:, 30:40, 10:20]).all()
    assert np.isfinite(whole).sum() == 2 * (70 * 53 - 40)
    bf = predict_tiled(net, card, x, tile=32, device="cpu", bf16=True)
    assert np.nanmax(np.abs(bf - whole)) < 0.2  # bf16 body, fp32 residual skip: ~0.05 K seen here


def test_empty_tiles_are_skipped_and_nan():
    net = random_net()
    card = tiny_card(net)
    x = np.full((2, 40, 40), 200.0, np.float32)
    x[:, :20, :20] = np.nan                       # the whole first 20x20 tile
    calls = []
    hook = net.register_forward_hook(lambda *a: calls.append(1))
    progress = []

    class Rec(Feedback):
        def progress(self, percent):
            progress.append(percent)

    out = predict_tiled(net, card, x, tile=20, device="cpu", feedback=Rec())
    assert len(calls) == 3 and progress[-1] == pytest.approx(100.0) and len(progress) == 4
    assert np.isnan(out[:, :20, :20]).all() and np.isfinite(out[:, 20:, :]).all()
    calls.clear()
    mask = np.zeros((40, 40), bool)
    mask[25, 25] = True
    out = predict_tiled(net, card, x, tile=20, device="cpu", valid_mask=mask)
    hook.remove()
    assert len(calls) == 1 and np.isfinite(out).sum() == 2

    class Stop(Feedback):
        def canceled(self):
            return True

    with pytest.raises(Canceled):
        predict_tiled(net, card, x, tile=20, device="cpu", feedback=Stop())
    with pytest.raises(InputError):
        predict_tiled(net, card, x[:1], device="cpu")


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InputError, match="Unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no usable CUDA"):
            resolve_device("cuda")


def test_upsample_bicubic_keeps_nan_cells_nan():
    rng = np.random.default_rng(0)
    coarse = rng.normal(250, 5, (2, 6, 7))
    coarse[0, 2, 3] = np.nan
    coarse[1, 0, :] = np.nan
    up = upsample_bicubic(coarse, 4)
    assert up.shape == (2, 24, 28) and up.dtype == np.float32
    nan = np.repeat(np.repeat(np.isnan(coarse), 4, 1), 4, 2)
    assert np.array_equal(np.isnan(up), nan)
    # neighbours of a NaN cell are not polluted and stay near the coarse values
    assert np.isfinite(up[0, 4:8, 8:12]).all() and np.abs(up[0, 4:8, 8:12] - 250).max() < 30
    flat = upsample_bicubic(np.full((5, 5), 7.0), 3)
    assert flat.shape == (15, 15) and np.allclose(flat, 7.0)


def test_upsample_nearest_repeats_cells_and_unknown_method_is_refused():
    coarse = np.array([[[1.0, 2.0], [np.nan, 4.0]]])
    up = upsample(coarse, 3, "nearest")
    assert up.shape == (1, 6, 6) and up.dtype == np.float32
    np.testing.assert_array_equal(up[0, ::3, ::3], coarse[0])
    assert np.isnan(up[0, 3:, :3]).all() and (up[0, :3, 3:] == 2.0).all()
    np.testing.assert_array_equal(upsample(coarse, 2, "bicubic"), upsample_bicubic(coarse, 2))
    with pytest.raises(InputError, match="lanczos"):
        upsample(coarse, 2, "lanczos")


def test_card_with_unknown_input_upsampling_is_refused(tmp_path):
    net = random_net()
    card = tiny_card(net).to_dict()
    card["input_upsampling"] = "lanczos"
    _write_payload(tmp_path / "up.pt", card, net.state_dict())
    with pytest.raises(ModelError, match=r"up\.pt.*input_upsampling"):
        load_model(tmp_path / "up.pt")


# ---------------------------------------------------------------- the model card

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = [ROOT / "model" / "tb_general.pt", ROOT / "model" / "sm_general.pt"]
WALD = [ROOT / "tests" / "data" / "wald" / "wald_tb.pt", ROOT / "tests" / "data" / "wald" / "wald_tb_static.pt"]


def test_card_round_trips_through_dict_json_file_and_pickle(tmp_path):
    net = random_net(in_channels=3, location_shape=(12, 10))
    card = ModelCard.for_network(
        net.config, inputs=[Band("tb_v", "K", "residual"), Band("tb_h", "K", "residual"), Band("static_water", "1")],
        outputs=[Band("tb_v", "K", "target"), Band("tb_h", "K", "target")],
        input_norm=Normalisation((250.0, 220.0, 0.1), (20.0, 25.0, 0.2)),
        output_norm=Normalisation((250.0, 220.0), (20.0, 25.0)), code_version="test", mask_channels=[0, 1],
        input_upsampling="nearest", location=Location("M09", 100, 200, 12, 10),
        training={"case": "tb", "data": "simulated", "epochs": 3, "regions": {"a": {"seed": 1}}, "note": None},
        validation={"days": 2, "mae": {"tb_v": 1.5, "tb_h": None}}, extra={"licence": "CC0"})
    assert ModelCard.from_dict(card.to_dict()) == card
    assert ModelCard.from_dict(json.loads(card.to_json())) == card
    assert pickle.loads(pickle.dumps(card)) == card and hash(pickle.loads(pickle.dumps(card))) == hash(card)
    save_model(tmp_path / "m.pt", net, card)
    _, back = load_model(tmp_path / "m.pt")
    assert back == card and back.to_dict() == card.to_dict()
    write_card_json(tmp_path / "m.json", back)
    assert ModelCard.from_dict(json.loads((tmp_path / "m.json").read_text())) == card
    # typed fields, with what they do not type kept as written (a null stays a null)
    assert card.training.case == "tb" and card.training.epochs == 3
    assert card.training.details["regions"]["a"]["seed"] == 1
    assert card.to_dict()["training"]["note"] is None and card.validation.mae["tb_h"] is None
    assert card.location == Location("M09", 100, 200, 12, 10) and card.location_specific
    assert card.case == "tb" and card.upsampling == "nearest" and card.static_input_names == ["static_water"]
    assert card.extra_input_names == ["static_water"] and card.valid_channels == [0, 1]
    assert card.metric_output_names(["cnn"])[:2] == ["MAE_CNN_TB_V", "MAE_CNN_TB_H"]
    assert len(card.metric_output_names(["cnn", "bicubic", "nearest_36km"])) == 5 * 3 * 2
    mean_in, std_in, mean_out, std_out = card.stats()
    with pytest.raises(TypeError, match="needs the model's ModelCard, got dict"):
        predict_tiled(net, card.to_dict(), np.zeros((3, 12, 10), np.float32), device="cpu")
    assert mean_in.dtype == np.float32 and list(std_out) == [20.0, 25.0]
    # immutable, and changed only into a new, validated card
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.input_upsampling = "bicubic"  # type: ignore[misc]
    with pytest.raises(TypeError, match="immutable"):
        card.training.details["regions"]["b"] = {}
    later = card.merged({"validation": {"held_out": {"tb_v": 2.0}}, "gate": "passed"})
    assert later.validation.mae == card.validation.mae and later.validation.details["held_out"] == {"tb_v": 2.0}
    assert later.extra == {"licence": "CC0", "gate": "passed"} and "held_out" not in card.validation.details
    with pytest.raises(ModelError, match=r"later\.pt: input_upsampling"):
        card.merged({"input_upsampling": "lanczos"}, "later.pt")


def _valid_card() -> dict:
    return tiny_card(random_net()).to_dict()


def _set(path: str, value):
    def edit(card: dict) -> None:
        *parents, last = path.split(".")
        target = card
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is _DROP:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return edit


_DROP = object()
REFUSALS = {
    "only unknown keys": (lambda c: c.clear() or c.update(x=1), "lacks the field"),
    "no outputs": (_set("outputs", _DROP), "lacks the field.*outputs"),
    "another class": (_set("architecture.class", "UNet"), "architecture must be"),
    "one input too few": (lambda c: c["inputs"].pop(), "lists 1 inputs but the network has 2"),
    "band without a name": (_set("outputs.0", {"units": "K"}), "each needs at least a 'name'"),
    "band units not text": (_set("outputs.0.units", 3), "units and role must be text"),
    "std zero": (_set("normalisation.inputs.std.0", 0.0), "std must be positive"),
    "mean not finite": (_set("normalisation.outputs.mean.1", float("nan")), "2 finite numbers"),
    "too few means": (_set("normalisation.inputs.mean", [1.0]), "2 finite numbers"),
    "implausible TB mean": (lambda c: [c["inputs"][0].update(name="tb_v"),
                                       c["normalisation"]["inputs"]["mean"].__setitem__(0, 5000.0)],
                            "implausible normalisation of input band 'tb_v'"),
    "features huge": (_set("architecture.kwargs.features", 5000), "features=5000 is not an integer in 1..1024"),
    "groups a bool": (_set("architecture.kwargs.groups", True), "groups=True"),
    "location_shape 1-D": (_set("architecture.kwargs.location_shape", [4]), "location_shape must be"),
    "upsampling unknown": (_set("input_upsampling", "lanczos"), "input_upsampling must be"),
    "mask out of range": (_set("mask_channels", [0, 9]), "mask_channels must list input band indices below 2"),
    "mask empty": (_set("mask_channels", []), "mask_channels"),
    "location incomplete": (_set("location", {"grid": "M09", "row_off": 1}), "'location' must be"),
    "location negative": (_set("location", {"grid": "M09", "row_off": -1, "col_off": 0, "rows": 4, "cols": 4}),
                          "offsets >= 0"),
    "training a list": (_set("training", []), "'training' must be a JSON object"),
    "epochs as text": (_set("training.epochs", "5"), "training.epochs must be an integer"),
    "data as a number": (_set("training.data", 1), "training.data must be text"),
    "mae as a list": (_set("validation.mae", [1.0]), "validation.mae must be an object"),
    "code_version a number": (_set("code_version", 1), "code_version must be text"),
}


@pytest.mark.parametrize("what", sorted(REFUSALS))
def test_card_refusals_name_the_file_and_the_problem(what):
    edit, message = REFUSALS[what]
    card = _valid_card()
    assert ModelCard.from_dict(card, "good.pt").to_dict() == card  # the unedited card is accepted
    edit(card)
    with pytest.raises(ModelError, match=r"^bad\.pt: .*" + message):
        ModelCard.from_dict(card, "bad.pt")


def test_location_window_must_match_the_static_map():
    net = random_net(location_shape=(12, 10))
    card = tiny_card(net).to_dict()
    card["location"] = {"grid": "M09", "row_off": 0, "col_off": 0, "rows": 12, "cols": 10}
    assert ModelCard.from_dict(card).location.rows == 12
    card["location"]["cols"] = 11
    with pytest.raises(ModelError, match="location window is 12 x 11 pixels but the network's static map is 12 x 10"):
        ModelCard.from_dict(card, "m.pt")


@pytest.mark.parametrize("path", BUNDLED + WALD, ids=lambda p: p.name)
def test_existing_model_files_load_with_the_same_card_values(path):
    stored = json.loads(torch.load(path, map_location="cpu", weights_only=True)["card"])
    _, card = load_model(path)
    assert card.to_dict() == stored  # nothing lost, nothing added, nothing changed
    assert card.architecture == stored["architecture"] and card.input_names == [b["name"] for b in stored["inputs"]]
    assert card.output_names == [b["name"] for b in stored["outputs"]]
    assert list(card.input_norm.mean) == stored["normalisation"]["inputs"]["mean"]
    assert list(card.output_norm.std) == stored["normalisation"]["outputs"]["std"]
    assert card.valid_channels == stored["mask_channels"] and card.upsampling == stored["input_upsampling"]
    assert card.training.data == stored["training"]["data"] == "simulated"
    assert card.training.epochs_done == stored["training"]["epochs_done"] and card.code_version == "0.1.0"
    assert card.validation.mae == stored["validation"]["mae"] and card.location is None
    beside = path.with_suffix(".json")
    if beside.exists():  # the bundled models' cards are also written beside them
        assert ModelCard.from_dict(json.loads(beside.read_text())) == card


def test_bundled_cards_say_what_the_code_reads():
    tb, sm = (read_card(p) for p in BUNDLED)
    assert tb.case == "tb" and tb.residual and tb.output_names == ["tb_v", "tb_h"] and tb.output_units == ["K", "K"]
    assert tb.static_input_names == [] and not tb.location_specific and "gate" in tb.extra
    assert tb.metric_output_names() == [f"{s}_{m}_{b}" for s in ("MAE", "RMSE", "BIAS", "UBRMSE", "R")
                                        for m in ("CNN", "BICUBIC") for b in ("TB_V", "TB_H")]
    assert sm.case == "soil moisture" and not sm.residual and sm.trained_grid == "M03"
    assert sm.input_names[3:] == ["soil_moisture_36km", "vegetation_water_content_36km", "surface_temperature_36km"]
    assert sm.input_names[:3] == ["tb_v", "tb_h", "lst"] and sm.valid_channels == [0]
    wald = read_card(WALD[1])
    assert wald.case == "tb" and wald.training.case == "tb-wald-144-36 (tb+static)"  # recognised by its outputs
    assert wald.static_input_names == [f"static_{n}" for n in ("bare", "grassland", "cropland", "forest", "urban",
                                                                "water")]


def test_card_problems_in_card_extra_stop_training_before_the_first_epoch(data):
    tr, va = data
    lines = []

    class Log(Feedback):
        def info(self, message):
            lines.append(message)

    bad_location = {"grid": "M09", "row_off": 0, "col_off": 0, "rows": 5, "cols": 5}  # the data is 48 x 48
    with pytest.raises(ModelError, match="location window is 5 x 5 pixels"):
        train(tr, va, TrainConfig(epochs=2, location=True, **FAST), Log(), card_extra={"location": bad_location})
    with pytest.raises(ModelError, match="training.epochs must be an integer"):
        train(tr, va, TrainConfig(epochs=2, **FAST), Log(), card_extra={"training": {"epochs": "two"}})
    with pytest.raises(InputError, match="may not set normalisation"):
        train(tr, va, TrainConfig(epochs=2, **FAST), Log(), card_extra={"normalisation": {}})
    assert not [line for line in lines if line.startswith("epoch")]


# ---------------------------------------------------------------- training


def test_split_by_date_keeps_last_dates_together():
    data = synth(n_days=6, size=16)
    data.dates[4] = data.dates[5]                  # two passes on the last date
    tr, va = split_by_date(data, 2)
    assert tr.dates == data.dates[:3] and va.dates == data.dates[3:]
    assert va.inputs.shape[0] == 3 and tr.targets.shape[0] == 3
    with pytest.raises(InputError):
        split_by_date(data, 5)


FAST = dict(features=8, groups=2, patches_per_epoch=48, batch_size=16, lr=3e-3, device="cpu")


@pytest.fixture(scope="module")
def data():
    return split_by_date(synth(), 2)


@pytest.fixture(scope="module")
def trained(data):
    tr, va = data
    lines = []

    class Log(Feedback):
        def info(self, message):
            lines.append(message)

    return train(tr, va, TrainConfig(epochs=5, **FAST), Log(), card_extra={"licence": "CC0"}), lines


def test_training_learns_and_beats_bicubic(trained, data, tmp_path):
    res, lines = trained
    first, last = res.history[0], res.history[-1]
    for band in ("tbv", "tbh"):
        assert last["train_mae"][band] < first["train_mae"][band]
        assert last["val_mae"][band] < 0.8 * last["val_mae_baseline"][band]
    assert len(lines) == 5 and "bicubic" in lines[-1] and " K" in lines[-1]
    card = res.card
    assert card.output_norm.mean == card.input_norm.mean[:2]        # residual: same stats
    assert card.output_norm.std == card.input_norm.std[:2]
    tr, _ = data
    assert card.input_norm.mean[0] == pytest.approx(np.nanmean(tr.inputs[:, 0]), rel=1e-6)
    assert card.training.device == "cpu" and card.training.epochs_done == 5
    assert card.training.precision == "fp32" and card.training.epochs == 5 and card.training.seed == 0
    assert card.validation.mae == last["val_mae"] and card.extra["licence"] == "CC0"
    assert card.input_names == ["tbv_bicubic", "tbh_bicubic", "elev"] and card.output_names == ["tbv", "tbh"]
    assert [b.role for b in card.inputs] == ["residual", "residual", "predictor"] and card.valid_channels == [0, 1]
    assert not res.canceled and not res.model.training
    assert next(res.model.parameters()).device.type == "cpu"
    save_model(tmp_path / "t.pt", res.model, res.card)
    model, card2 = load_model(tmp_path / "t.pt")
    assert card2.validation.mae_baseline == last["val_mae_baseline"] and card2 == card


def test_bf16_training_learns_and_beats_bicubic(trained, data):
    tr, va = data
    res = train(tr, va, TrainConfig(epochs=5, bf16=True, **FAST))
    first, last = res.history[0], res.history[-1]
    ref = trained[0].history[-1]
    for band in ("tbv", "tbh"):
        assert last["train_mae"][band] < first["train_mae"][band]
        assert last["val_mae"][band] < 0.8 * last["val_mae_baseline"][band]
        # bf16 rounding must not cost more than a fraction of what fp32 training reaches
        assert last["val_mae"][band] < 1.25 * ref["val_mae"][band] + 0.05
    assert res.card.training.precision == "bf16-autocast"
    assert all(p.dtype == torch.float32 for p in res.model.parameters())


def _weights(res):
    return [v.clone() for v in res.model.state_dict().values()]


def test_training_is_deterministic_for_a_seed(data):
    tr, _ = data
    a = train(tr, None, TrainConfig(epochs=2, **FAST))
    b = train(tr, None, TrainConfig(epochs=2, **FAST))
    c = train(tr, None, TrainConfig(epochs=2, seed=1, **FAST))
    assert all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(b), strict=True))
    assert not all(torch.equal(x, y) for x, y in zip(_weights(a), _weights(c), strict=True))
    assert a.history[-1]["train_mae"] == b.history[-1]["train_mae"]
    assert a.card.validation.days == 0 and a.card.validation.mae is None


def test_resume_from_checkpoint_matches_uninterrupted_run(data, tmp_path):
    tr, va = data
    ck = str(tmp_path / "ck.pt")
    straight = train(tr, va, TrainConfig(epochs=3, **FAST))
    part = train(tr, va, TrainConfig(epochs=2, checkpoint=ck, **FAST))
    assert len(part.history) == 2
    resumed = train(tr, va, TrainConfig(epochs=3, checkpoint=ck, **FAST))
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    assert all(torch.equal(x, y) for x, y in zip(_weights(straight), _weights(resumed), strict=True))
    assert resumed.history[-1]["val_mae"] == straight.history[-1]["val_mae"]
    with pytest.raises(ModelError, match=r"ck\.pt"):
        train(tr, va, TrainConfig(epochs=3, checkpoint=ck, **{**FAST, "features": 4}))


def test_fine_tuning_starts_from_the_given_model(data, tmp_path):
    from smapdown.model.train import init_checkpoint

    tr, va = data
    first = train(tr, va, TrainConfig(epochs=3, **FAST))
    ck = str(tmp_path / "init.pt")
    init_checkpoint(ck, first.model, first.card, TrainConfig(epochs=1, **FAST))
    tuned = train(tr, va, TrainConfig(epochs=1, checkpoint=ck, **FAST))
    scratch = train(tr, va, TrainConfig(epochs=1, **FAST))
    assert [h["epoch"] for h in tuned.history] == [1]  # epochs counts the fine-tuning epochs
    assert tuned.card.input_norm == first.card.input_norm  # the weights keep their normalisation
    # one epoch on from a trained model is far better than one epoch from scratch
    assert tuned.history[-1]["val_mae"]["tbv"] < 0.8 * scratch.history[-1]["val_mae"]["tbv"]
    with pytest.raises(ModelError, match=r"init\.pt"):  # another network does not fit the checkpoint
        train(tr, va, TrainConfig(epochs=2, checkpoint=ck, **{**FAST, "features": 4}))


def test_cancel_returns_last_finished_epoch(data):
    tr, va = data

    class CancelAfterFirstEpoch(Feedback):
        def __init__(self):
            self.epochs = 0

        def info(self, message):
            self.epochs += 1

        def canceled(self):
            return self.epochs >= 1

    res = train(tr, va, TrainConfig(epochs=4, **FAST), CancelAfterFirstEpoch())
    assert res.canceled and len(res.history) == 1
    assert res.card.training.canceled and res.card.training.epochs_done == 1
    out = predict_tiled(res.model, res.card, va.inputs[0], device="cpu")
    assert out.shape == (2, 48, 48) and np.isfinite(out).any()

    class CancelNow(Feedback):
        def canceled(self):
            return True

    with pytest.raises(Canceled):
        train(tr, va, TrainConfig(epochs=4, **FAST), CancelNow())


def test_algorithms_read_the_case_and_metric_names_from_the_card():
    pytest.importorskip("qgis.core")
    from smapdown.algorithms.base import model_case_problem
    from smapdown.algorithms.downscale import METRIC_NAMES

    tb, sm = (str(p) for p in BUNDLED)
    assert model_case_problem(tb, "tb", "Model file") is None
    assert model_case_problem(sm, "soil moisture", "Model file") is None
    # a TB model whose trainer named its case 'tb-wald-144-36 (tb)' is a TB model (read from its outputs)
    assert model_case_problem(str(WALD[0]), "tb", "Model file") is None
    problem = model_case_problem(sm, "tb", "Model file")
    assert problem.startswith("Model file: sm_general.pt is a soil moisture model; this algorithm needs a bright")
    assert "is a tb model" in model_case_problem(tb, "soil moisture", "Model file")
    # the downscale algorithm declares the metric outputs the bundled TB model's card names
    assert METRIC_NAMES == read_card(tb).metric_output_names()
