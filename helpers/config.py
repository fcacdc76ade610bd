"""Every setting of a run in one dataclass, with named profiles and layered overrides.

Precedence, lowest to highest: the dataclass defaults, the profile, a YAML file,
environment variables (``CATSDOGS_<SETTING>``), explicit overrides (papermill
parameters, ``make run-all EPOCHS=...``).
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helpers.errors import UserError
from helpers.layout import TEST_DIR, TEST_LABELS
from helpers.runtime import cpu_has_fast_bfloat16

ENV_PREFIX = "CATSDOGS_"
ROOT_ENV = ENV_PREFIX + "ROOT"


LR_SCHEDULES = ("plateau", "cosine")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
DISTRIBUTIONS = ("none", "mirrored", "data_parallel")
# Keras's engine, chosen as Keras chooses it: the KERAS_BACKEND environment variable, read when
# Keras is imported. Each distribution runs on one of them.
BACKEND_ENV = "KERAS_BACKEND"
BACKENDS = ("tensorflow", "jax")
DISTRIBUTION_BACKENDS = {"mirrored": "tensorflow", "data_parallel": "jax"}
# The networks by name (helpers.modeling.networks builds them, and a test holds its names to these):
# trained from scratch, and pretrained ImageNet backbones with a new head. Here too so that a
# setting is checked without TensorFlow.
CNN_MODELS = ("seed_cnn", "slim_cnn", "compact_cnn", "large_cnn")
BACKBONE_MODELS = ("mobilenet_v3_small", "efficientnet_v2_b0", "efficientnet_v2_s")
MODEL_NAMES = CNN_MODELS + BACKBONE_MODELS
TEST_TIME_ZOOMS = (1.0, 2.0)  # test_time_zoom's range: 1 turns it off
TEST_TIME_ZOOM_RANGE = "between {:g} (off) and {:g}".format(*TEST_TIME_ZOOMS)
BAD_IMAGE_MODES = ("skip", "stop")


def valid_test_time_zoom(zoom: float) -> bool:
    """Whether a test-time zoom lies in TEST_TIME_ZOOMS (config and catsdogs-predict --zoom)."""
    return TEST_TIME_ZOOMS[0] <= zoom <= TEST_TIME_ZOOMS[1]


class ConfigError(UserError, ValueError):
    """A setting that is unknown or has a value of the wrong kind."""

    notebook_hint = (
        "In a notebook, fix it in the first cell (profile, config_file, overrides = {...}); "
        "with make, in the NAME=value settings (make run-all EPOCHS=5, make lab PROFILE=smoke)."
    )


@dataclass(frozen=True)
class Config:
    """All parameters of a run; the defaults are the default recipe (README: Parameters).

    Paths are absolute once loaded through `load_config`.
    """

    profile: str = "default"
    # Data: a Kaggle-layout folder (train/, test1/, test1_labels.csv) or class folders.
    data_dir: Path = Path("data")
    test_dir: Path | None = None  # default <data_dir>/test1
    test_labels: Path | None = None  # default <data_dir>/test1_labels.csv, used when present
    synthetic: bool = False  # generate the synthetic stripes set into data_dir when missing
    synthetic_train_per_class: int = 150
    synthetic_test_count: int = 60
    max_train_images: int | None = None  # stratified subset of the labelled pool
    run_dir: Path | None = None  # default runs/<profile> (run-all: runs/<date-time>-<profile>)
    # Input pipeline
    image_size: int = 80  # the photos' side in pixels, as the network reads them
    batch_size: int = 64
    val_fraction: float = 0.2
    cache: bool = True
    shuffle_buffer: int = 4096
    bad_images: str = "skip"  # an unreadable training image: "skip" it (reported) or "stop"
    # Augmentation: the seed article's settings
    augment: bool = True
    rotation_degrees: float = 15.0
    shear: float = 0.1
    zoom: float = 0.2
    shift: float = 0.1
    horizontal_flip: bool = True
    # Model and training: the recipe that reaches about 95-96 % on the real photos within 30
    # minutes on a 2-core CPU (docs/history.md): a slim network rather than a wider one at 64 px.
    # In the same time it trains three times the epochs, which scored higher on the validation
    # split than the wider network. With progressive resizing its budget holds 45 epochs on a
    # 2-core Xeon, and 80 px beat 72 there on validation (docs/recipe-search).
    model: str = "slim_cnn"
    # Progressive resizing: training starts on photos this small and grows them in steps of 8 px to
    # image_size, which the last quarter of the run trains at (helpers.modeling.training.resizing).
    # With the cosine schedule (which plans the run's end) and the networks trained from scratch;
    # None, or a size not below image_size: every epoch at image_size. The smaller epochs cost less,
    # so a slow CPU's budget holds more of them (docs/recipe-search, issue 30).
    start_image_size: int | None = 48
    # With train_minutes and the cosine schedule, the most epochs the time budget may hold: the
    # learning rate anneals to 0 at the budget or at the last epoch, whichever comes first. High
    # enough that the budget ends training on a fast CPU too (a 2-core AMX one held 89.5 and 92).
    epochs: int = 100
    # The peak, with the cosine schedule: 2e-3 beat 1e-3 on validation at a slow CPU's 25 epochs.
    learning_rate: float = 2e-3
    weight_decay: float = 0.05  # AdamW's decoupled weight decay (not used by RMSprop)
    # "cosine": warm up, then cosine decay to 0; "plateau": halve the rate on a validation-loss
    # plateau, stop on a longer one
    lr_schedule: str = "cosine"
    # cosine only: epochs of linear warm-up from 0 to learning_rate, at most epochs - 1
    warmup_epochs: int = 1
    # "mixed_bfloat16": bfloat16 compute with float32 weights, faster on CPUs with AMX, slower
    # with AVX512-BF16 alone and many times slower without either; "auto" picks it only with AMX
    precision: str = "auto"
    # The plateau schedule only: epochs without a lower validation loss before training stops, and
    # before the learning rate is halved
    early_stopping_patience: int = 10
    reduce_lr_patience: int = 2
    # The time budget of training, validation included: the cosine schedule anneals to 0 by then
    # (BudgetedCosine); with the plateau schedule, training stops after the epoch that leaves too
    # little time for another. None: no budget, the epochs alone decide (exactly reproducible).
    train_minutes: float | None = 24
    seed: int = 42
    # Test-time augmentation in notebooks 04 and 05 and make predict: average each image's
    # prediction with its mirror image's (twice the prediction work), and with its centre's: the
    # image read at test_time_zoom × image_size and cropped back (twice again; 1: off). On three
    # models' validation splits, +0.4, +0.9 and +0.3 points over flip alone (docs/recipe-search).
    test_time_flip: bool = True
    test_time_zoom: float = 1.125
    # Pretrained backbones only (model: mobilenet_v3_small, efficientnet_v2_b0, efficientnet_v2_s):
    # phase 1 trains the head for `epochs`, phase 2 fine-tunes the backbone's top layers.
    weights: Path | None = None  # the backbone's weights file; None: download ImageNet's (cached)
    fine_tune_epochs: int = 5  # phase 2 epochs; 0: train the head only
    fine_tune_layers: int | None = None  # top backbone layers phase 2 unfreezes; None: its own
    fine_tune_learning_rate: float = 1e-5  # phase 2's constant rate, far below the head's
    # "mirrored": train data-parallel on every GPU of this machine, or on `devices` logical CPU
    # devices (tf.distribute.MirroredStrategy). "data_parallel": the same with keras.distribution
    # on the JAX backend (KERAS_BACKEND=jax), on every device of every process (several machines).
    # batch_size stays the global batch, split between the devices, so the learning rate and the
    # result are those of one device.
    distribute: str = "none"
    devices: int | None = None  # distributed on a machine without a GPU: its CPU as this many
    # A run folder whose split or training files were made with other settings: stop and say so
    # (False), or set them aside in its replaced-<date-time>/ and make them anew (FORCE=1).
    force: bool = False

    def __post_init__(self) -> None:
        problems = [
            f"{name}={getattr(self, name)!r} must be {limit}"
            for name, check, limit in CHECKS
            if not check(self)
        ]
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def test_labels_available(self) -> bool:
        """Whether a labels CSV for the test images exists."""
        return self.test_labels is not None and self.test_labels.is_file()

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping of the settings, paths as strings."""
        return {
            k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(self).items()
        }


def _optional(value: Any, check: Callable[[Any], bool]) -> bool:
    return value is None or check(value)


# Each setting's check and what the message says it must be, in one table.
CHECKS: tuple[tuple[str, Callable[[Config], bool], str], ...] = (
    ("model", lambda c: c.model in MODEL_NAMES, "one of: " + ", ".join(MODEL_NAMES)),
    ("image_size", lambda c: c.image_size >= 16, "at least 16"),
    (
        "start_image_size",
        lambda c: _optional(c.start_image_size, lambda v: v >= 16),
        "empty or at least 16",
    ),
    ("batch_size", lambda c: c.batch_size >= 1, "at least 1"),
    ("epochs", lambda c: c.epochs >= 1, "at least 1"),
    ("val_fraction", lambda c: 0.0 < c.val_fraction < 1.0, "between 0 and 1, exclusive"),
    ("shuffle_buffer", lambda c: c.shuffle_buffer >= 1, "at least 1"),
    ("synthetic_train_per_class", lambda c: c.synthetic_train_per_class >= 10, "at least 10"),
    ("synthetic_test_count", lambda c: c.synthetic_test_count >= 2, "at least 2"),
    (
        "max_train_images",
        lambda c: _optional(c.max_train_images, lambda v: v >= 10),
        "empty or at least 10",
    ),
    ("learning_rate", lambda c: c.learning_rate > 0, "positive"),
    ("bad_images", lambda c: c.bad_images in BAD_IMAGE_MODES, " or ".join(BAD_IMAGE_MODES)),
    ("weight_decay", lambda c: c.weight_decay >= 0, "at least 0"),
    ("lr_schedule", lambda c: c.lr_schedule in LR_SCHEDULES, " or ".join(LR_SCHEDULES)),
    ("warmup_epochs", lambda c: c.warmup_epochs >= 0, "at least 0"),
    ("precision", lambda c: c.precision in PRECISIONS, " or ".join(PRECISIONS)),
    ("train_minutes", lambda c: _optional(c.train_minutes, lambda v: v > 0), "empty or positive"),
    ("fine_tune_epochs", lambda c: c.fine_tune_epochs >= 0, "at least 0"),
    (
        "fine_tune_layers",
        lambda c: _optional(c.fine_tune_layers, lambda v: v >= 1),
        "empty or at least 1",
    ),
    ("fine_tune_learning_rate", lambda c: c.fine_tune_learning_rate > 0, "positive"),
    ("test_time_zoom", lambda c: valid_test_time_zoom(c.test_time_zoom), TEST_TIME_ZOOM_RANGE),
    ("distribute", lambda c: c.distribute in DISTRIBUTIONS, " or ".join(DISTRIBUTIONS)),
    (
        "devices",
        lambda c: _optional(c.devices, lambda v: v >= 1 and c.distribute != "none"),
        'empty, or at least 1 with distribute="mirrored" or "data_parallel"',
    ),
)

# Profiles list only what differs from the default recipe (the dataclass defaults).
PROFILES: dict[str, dict[str, Any]] = {
    # Real photos in data/, a model worth keeping: the 30-minute CPU recipe.
    "default": {},
    # The same recipe by its name.
    "cpu": {},
    # A budget a session can afford on 2 CPU cores: compact_cnn, the default network at twice the
    # width, at 96 px (docs/history.md, 0.964 on test1 in 100 minutes of training).
    "long": {
        "model": "compact_cnn",
        "image_size": 96,
        "train_minutes": 100,
        # The recipe as measured then, every epoch at 96 px at the peak rate of that time.
        "start_image_size": None,
        "learning_rate": 1e-3,
    },
    # A few minutes end to end on a generated, learnable stripes set: not cats and dogs.
    "smoke": {
        "synthetic": True,
        "data_dir": "data/synthetic",
        "image_size": 32,
        "batch_size": 32,
        "epochs": 8,
        "learning_rate": 3e-4,
        "weight_decay": 1e-4,
        "lr_schedule": "plateau",
        "precision": "float32",
        "early_stopping_patience": 3,
        "shuffle_buffer": 512,
        "train_minutes": None,
    },
}

# Fine-tuning a pretrained ImageNet backbone, the keras.io transfer-learning guide's recipe:
# the new head at 1e-3 on the frozen backbone, then its top layers at 1e-5.
PROFILES["transfer"] = {
    "model": "mobilenet_v3_small",
    "image_size": 160,
    "epochs": 5,
    "fine_tune_epochs": 5,
    "learning_rate": 1e-3,
    "weight_decay": 1e-4,
    "fine_tune_learning_rate": 1e-5,
    "lr_schedule": "plateau",
    "precision": "float32",
    "early_stopping_patience": 3,
    "train_minutes": None,
}
# The transfer recipe at the smoke profile's size, on its synthetic set: give it WEIGHTS= (README).
PROFILES["transfer-smoke"] = {
    **PROFILES["transfer"],
    **{name: PROFILES["smoke"][name] for name in ("synthetic", "data_dir", "image_size")},
    **{name: PROFILES["smoke"][name] for name in ("batch_size", "shuffle_buffer")},
    "epochs": 3,
    "fine_tune_epochs": 2,
}

SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Config))
_TYPES = typing.get_type_hints(Config)


def project_root() -> Path:
    """Folder that relative paths resolve against.

    $CATSDOGS_ROOT, else the nearest folder with pyproject.toml and notebooks/.
    """
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return here


def _coerce(name: str, value: Any, source: str) -> Any:
    """Convert `value` from `source` to the type of setting `name`."""
    kind = _TYPES[name]
    optional = type(None) in typing.get_args(kind)
    base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
    if value is None or (
        optional and isinstance(value, str) and value.strip().lower() in ("", "none", "null")
    ):
        if optional:
            return None
        raise ConfigError(f"{source}: {name} cannot be empty")
    try:
        if base is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        if base is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if base is Path:
            return Path(str(value)).expanduser()
        return str(value)
    except ValueError:
        kinds = {
            bool: "true or false",
            int: "a whole number",
            float: "a number",
            str: "text",
            Path: "a path",
        }
        raise ConfigError(f"{source}: {name}={value!r} is not {kinds[base]}") from None


def _apply(settings: dict[str, Any], updates: Mapping[str, Any], source: str) -> None:
    """Merge `updates` into `settings`, normalising and checking every name."""
    for raw_name, value in updates.items():
        name = str(raw_name).strip().lower().replace("-", "_")
        if name not in SETTING_NAMES:
            raise ConfigError(
                f"{source}: unknown setting {raw_name!r}; "
                f"known settings: {', '.join(SETTING_NAMES)}"
            )
        settings[name] = _coerce(name, value, source)


def read_yaml_settings(path: Path) -> dict[str, Any]:
    """Settings mapping from a YAML file, with a clear error when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"config file {path} does not exist: give the path of a YAML file of settings"
        )
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"config file {path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping of setting: value, not {type(data).__name__}"
        )
    return data


def load_config(
    profile: str | None = None,
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve a Config from defaults, profile, YAML file, environment and overrides."""
    environ = os.environ if environ is None else environ
    file_settings = read_yaml_settings(Path(config_file)) if config_file else {}
    env_settings = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key != ROOT_ENV
    }
    overrides = dict(overrides or {})
    profile = (
        profile
        or overrides.get("profile")
        or env_settings.get("profile")
        or file_settings.get("profile")
        or "default"
    )
    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of: {', '.join(PROFILES)}")

    settings: dict[str, Any] = {}
    _apply(settings, PROFILES[profile], f"profile {profile}")
    _apply(settings, file_settings, f"config file {config_file}")
    _apply(settings, env_settings, "environment (CATSDOGS_*)")
    _apply(settings, overrides, "overrides")
    settings["profile"] = profile
    return _resolve(Config(**settings))


def keras_backend() -> str:
    """The engine Keras runs on in this process and the kernels it starts: $KERAS_BACKEND."""
    return os.environ.get(BACKEND_ENV) or BACKENDS[0]


def backend_problem(cfg: Config, backend: str) -> str | None:
    """Why `cfg` cannot train on Keras's `backend`, or None when it can."""
    if backend not in BACKENDS:
        return f"{BACKEND_ENV}={backend}: the project trains on {' or '.join(BACKENDS)}"
    needed = DISTRIBUTION_BACKENDS.get(cfg.distribute)
    if needed and needed != backend:
        return (
            f'distribute="{cfg.distribute}" runs on Keras\'s {needed} backend, and this one is '
            f"{backend}: start it with {BACKEND_ENV}={needed}"
        )
    return None


def resolved_precision(precision: str) -> str:
    """The dtype policy to train with: "auto" is mixed_bfloat16 where the CPU has AMX.

    On JAX, "auto" is float32: XLA's CPU convolutions ran slower in bfloat16 than in float32
    (docs/scaling.md).
    """
    if precision != "auto":
        return precision
    if keras_backend() == "jax":
        return "float32"
    return "mixed_bfloat16" if cpu_has_fast_bfloat16() else "float32"


def _resolve(cfg: Config) -> Config:
    """Make paths absolute against the project root, fill in path defaults, pick the precision."""
    root = project_root()

    def absolute(path: Path) -> Path:
        return path if path.is_absolute() else (root / path).resolve()

    data_dir = absolute(cfg.data_dir)
    return dataclasses.replace(
        cfg,
        data_dir=data_dir,
        test_dir=absolute(cfg.test_dir) if cfg.test_dir else data_dir / TEST_DIR,
        test_labels=absolute(cfg.test_labels) if cfg.test_labels else data_dir / TEST_LABELS,
        run_dir=absolute(cfg.run_dir) if cfg.run_dir else None,
        weights=absolute(cfg.weights) if cfg.weights else None,
        precision=resolved_precision(cfg.precision),
    )


def config_to_yaml(cfg: Config) -> str:
    """YAML text of a Config, readable back by `load_config(config_file=...)`."""
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)
