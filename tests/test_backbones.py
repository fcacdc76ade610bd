"""Pretrained backbones: weights fetched as keras.applications does, WEIGHTS= files, freezing.

No internet here: the download is pointed at a local HTTP server on 127.0.0.1, and the weights
are seeded test weights written in the .h5 format of keras.applications' own files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from helpers.cli.backbones import main
from helpers.cli.run_all import main as run_all
from helpers.config import ConfigError, load_config
from helpers.modeling.networks import (
    BACKBONES,
    WeightsUnavailableError,
    backbone_of,
    backbones,
    build_transfer_network,
    fine_tune_layer_count,
    set_phase,
    weights,
)
from helpers.modeling.training import build_model, inference_network

NAME = "mobilenet_v3_small"
SMALL = {
    "model": NAME,
    "image_size": 32,
    "augment": False,
    "lr_schedule": "plateau",
    "precision": "float32",
}


@pytest.fixture(scope="module")
def test_weights(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("weights") / "test-weights.h5"
    assert main(["write-test-weights", str(path), "--model", NAME]) == 0
    return path


def same_weights(a: keras.Model, b: keras.Model) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=True))


class WeightsServer:
    """Serves bytes by path; anything else is a 404. Counts the requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.requests += 1
                data = server.files.get(self.path)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/weights/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch, tmp_path):
    """A local server the mobilenet_v3 family downloads from, and a fresh Keras cache."""
    fixture = WeightsServer()
    monkeypatch.setitem(backbones.WEIGHTS_BASE_URLS, "mobilenet_v3", fixture.url)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    yield fixture
    fixture.close()


def serve(server: WeightsServer, monkeypatch, data: bytes, hash_of: bytes | None = None) -> Path:
    """Serve `data` as the weights file, expected to have the MD5 of `hash_of` (default: data)."""
    spec = BACKBONES[NAME]
    server.files[f"/weights/{spec.file_name}"] = data
    md5 = hashlib.md5(data if hash_of is None else hash_of).hexdigest()
    monkeypatch.setitem(BACKBONES, NAME, dataclasses.replace(spec, file_hash=md5))
    return Path(weights.keras_cache_dir()) / "models" / spec.file_name


def test_the_weights_table_is_keras_applications_own():
    from keras.src.applications import efficientnet_v2, mobilenet_v3

    small = BACKBONES["mobilenet_v3_small"]
    assert (
        small.origin
        == mobilenet_v3.BASE_WEIGHT_PATH + "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    )
    assert small.file_hash == mobilenet_v3.WEIGHTS_HASHES["small_224_1.0_float"][1]
    for name, key in (("efficientnet_v2_b0", "b0"), ("efficientnet_v2_s", "-s")):
        spec = BACKBONES[name]
        assert (
            spec.origin
            == efficientnet_v2.BASE_WEIGHTS_PATH + f"efficientnetv2-{key.strip('-')}_notop.h5"
        )
        assert spec.file_hash == efficientnet_v2.WEIGHTS_HASHES[key][1]


def test_test_weights_are_known_and_load_back_through_the_weights_setting(test_weights):
    # keras.applications' own loading of a weights file, and the project's, give the same weights.
    reference = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, weights=str(test_weights)
    )
    network = build_model(
        load_config(overrides={**SMALL, "weights": str(test_weights)}, environ={})
    )
    assert same_weights(backbone_of(network), reference)
    assert not same_weights(backbone_of(build_transfer_network(NAME, 32)), reference)
    with h5py.File(test_weights) as file:  # the layout of keras.applications' .h5 files
        assert {"layer_names", "backend", "keras_version"} <= set(file.attrs)


def test_a_keras_3_weights_file_loads_too(test_weights, tmp_path):
    source = build_transfer_network(NAME, 32)
    backbone_of(source).load_weights(str(test_weights))
    path = tmp_path / "mine.weights.h5"
    backbone_of(source).save_weights(str(path))
    network = build_model(load_config(overrides={**SMALL, "weights": str(path)}, environ={}))
    assert same_weights(backbone_of(network), backbone_of(source))


def test_write_test_weights_never_overwrites_and_wants_an_h5_name(test_weights, tmp_path, capsys):
    before = test_weights.read_bytes()
    assert main(["write-test-weights", str(test_weights)]) == 2
    assert "already exists" in capsys.readouterr().err and test_weights.read_bytes() == before
    assert main(["write-test-weights", str(tmp_path / "w.weights.h5")]) == 2
    assert "must end in .h5" in capsys.readouterr().err


def test_a_missing_or_unfit_weights_file_is_named(tmp_path):
    with pytest.raises(
        WeightsUnavailableError, match=r"weights=.*nothing\.h5 does not exist.*no_top_v2\.h5"
    ):
        build_model(
            load_config(overrides={**SMALL, "weights": str(tmp_path / "nothing.h5")}, environ={})
        )
    unfit = tmp_path / "unfit.h5"
    with h5py.File(unfit, "w") as file:
        file.attrs["layer_names"] = [b"conv"]
    with pytest.raises(
        WeightsUnavailableError, match=r"unfit\.h5 does not hold weights of backbone"
    ):
        build_model(load_config(overrides={**SMALL, "weights": str(unfit)}, environ={}))


def test_imagenet_weights_are_downloaded_once_into_the_keras_cache(
    server, monkeypatch, test_weights
):
    cached = serve(server, monkeypatch, test_weights.read_bytes())
    first = build_model(load_config(overrides=SMALL, environ={}))
    assert cached.read_bytes() == test_weights.read_bytes() and server.requests == 1
    second = build_model(load_config(overrides=SMALL, environ={}))
    assert server.requests == 1  # hash-checked in the cache, not fetched again
    assert same_weights(backbone_of(first), backbone_of(second))


@pytest.mark.parametrize("failure", ["refused", "not found", "wrong file"])
def test_a_failed_download_stops_clearly_and_leaves_nothing_in_the_cache(
    server, monkeypatch, test_weights, failure
):
    cached = serve(
        server, monkeypatch, b"<html>an error page</html>", hash_of=test_weights.read_bytes()
    )
    if failure == "refused":
        with socket.socket() as probe:  # a port that nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        monkeypatch.setitem(
            backbones.WEIGHTS_BASE_URLS, "mobilenet_v3", f"http://127.0.0.1:{port}/weights/"
        )
    elif failure == "not found":
        server.files.clear()
    with pytest.raises(WeightsUnavailableError) as raised:
        build_model(load_config(overrides=SMALL, environ={}))
    message = str(raised.value)
    assert (
        BACKBONES[NAME].file_name in message
        and "WEIGHTS=" in message
        and BACKBONES[NAME].origin in message
    )
    assert raised.value._render_traceback_() == [
        f"WeightsUnavailableError: {message}"
    ]  # IPython shows this
    assert not cached.exists() and list(cached.parent.iterdir()) == []


def test_run_all_stops_before_any_notebook_when_the_download_fails(
    server, monkeypatch, tmp_path, capsys
):
    server.files.clear()
    run_dir = tmp_path / "run"
    code = run_all(
        [
            "--profile",
            "transfer-smoke",
            "--set",
            f"DATA_DIR={tmp_path / 'data'}",
            "--set",
            f"RUN_DIR={run_dir}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("run-all: could not download the ImageNet weights")
    assert "Traceback" not in err and not run_dir.exists()


def test_phase_one_trains_the_head_only_and_phase_two_the_backbone_top_without_batch_norm(
    test_weights,
):
    cfg = load_config(overrides={**SMALL, "weights": str(test_weights)}, environ={})
    network = build_model(cfg)
    backbone = backbone_of(network)
    head = network.get_layer("probabilities")
    assert [w.path for w in network.trainable_weights] == [w.path for w in head.trainable_weights]

    top = fine_tune_layer_count(network, cfg)
    assert backbone.layers[-top].name == BACKBONES[NAME].fine_tune_from
    set_phase(network, 2, top)
    unfrozen = [layer for layer in backbone.layers if layer.trainable_weights]
    assert unfrozen and all(
        backbone.layers.index(layer) >= len(backbone.layers) - top for layer in unfrozen
    )
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in unfrozen)
    expected = sum(
        int(np.prod(w.shape)) for layer in (*unfrozen, head) for w in layer.trainable_weights
    )
    assert sum(int(np.prod(w.shape)) for w in network.trainable_weights) == expected

    # A training step in phase 2 moves the top, not the bottom, and not batch norm's statistics.
    network.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
    before = {w.path: keras.ops.convert_to_numpy(w).copy() for w in backbone.weights}
    images = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3)).astype("float32")
    network.fit(images, np.eye(2)[[0, 1] * 4], epochs=1, verbose=0)
    changed = {
        w.path
        for w in backbone.weights
        if not np.array_equal(before[w.path], keras.ops.convert_to_numpy(w))
    }
    assert changed == {w.path for layer in unfrozen for w in layer.trainable_weights}

    set_phase(network, 1)
    assert len(network.trainable_weights) == len(head.trainable_weights)
    cfg_few = load_config(overrides={**SMALL, "fine_tune_layers": 3}, environ={})
    assert fine_tune_layer_count(network, cfg_few) == 3


def test_the_saved_network_nests_the_backbone_and_reloads_in_safe_mode(test_weights, tmp_path):
    cfg = load_config(
        overrides={**SMALL, "augment": True, "weights": str(test_weights)}, environ={}
    )
    model = build_model(cfg)
    network = inference_network(model)
    assert network.name == NAME and "augmentation" not in [layer.name for layer in network.layers]
    path = tmp_path / "model.keras"
    network.save(path)
    reloaded = keras.models.load_model(path)  # safe_mode=True, the default
    images = np.random.default_rng(1).integers(0, 255, (4, 32, 32, 3)).astype("uint8")
    np.testing.assert_allclose(
        reloaded.predict(images, verbose=0), network.predict(images, verbose=0), atol=1e-6
    )
    assert backbone_of(reloaded).name == backbone_of(network).name
    plain = build_model(load_config(overrides={**SMALL, "weights": str(test_weights)}, environ={}))
    # No augmentation: the network itself, not its backbone.
    assert inference_network(plain) is plain


def test_transfer_profiles_and_fine_tune_settings():
    cfg = load_config("transfer", environ={})
    assert (
        cfg.model in BACKBONES
        and cfg.fine_tune_epochs >= 1
        and cfg.fine_tune_learning_rate < cfg.learning_rate
    )
    smoke = load_config("transfer-smoke", overrides={"weights": "w.h5"}, environ={})
    assert (
        smoke.synthetic
        and smoke.image_size == 32
        and smoke.model == cfg.model
        and smoke.weights.is_absolute()
    )
    with pytest.raises(ConfigError, match="fine_tune_layers=0 must be empty or at least 1"):
        load_config(overrides={"fine_tune_layers": 0}, environ={})
    choices = "seed_cnn, slim_cnn, compact_cnn, large_cnn, mobilenet_v3_small"
    with pytest.raises(ValueError, match=f"model='resnet' must be one of: {choices}"):
        load_config(overrides={**SMALL, "model": "resnet"}, environ={})
