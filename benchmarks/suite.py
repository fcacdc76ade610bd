"""The benchmark suite: input pipeline, training, prediction and memory, project against seed."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import helpers.quiet_tensorflow  # noqa: F401

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from benchmarks import seed_pipeline
from benchmarks.full_size import make_full_size_copies
from benchmarks.hardware import measure_peaks, model_flops, utilization
from benchmarks.in_memory import FLOAT32_TRAINING, batch_in_memory, in_memory_training
from benchmarks.memory import measure_in_subprocess
from benchmarks.timing import Rates, interleaved
from benchmarks.training_processes import BACKEND_SIDES, ONEDNN_SIDES, process_rates
from helpers.augmentation import build_augmentation
from helpers.config import Config, load_config
from helpers.dataset import find_train_dir, list_labelled_images, list_test_images
from helpers.layout import CLASS_NAMES, TEST_DIR
from helpers.modeling.inference import predict_dog_probability
from helpers.modeling.networks import build_seed_cnn
from helpers.modeling.training import build_model, inference_network
from helpers.pipeline import AUTOTUNE, load_images, make_dataset
from helpers.runtime import onednn_enabled

SEED_IMAGE_SIZE = 64  # the seed's target_size
SEED_BATCH_SIZE = 100  # the seed's batch size in these comparisons
# The seed network trained as the seed trains it: RMSprop at its constant default rate, float32,
# at the seed's size whatever the default recipe's.
SEED_TRAINING = {
    "model": "seed_cnn",
    "image_size": SEED_IMAGE_SIZE,
    "lr_schedule": "plateau",
    "learning_rate": 1e-3,
    "precision": "float32",
}


@dataclass(frozen=True)
class Comparison:
    """One row of the table: the project's rate against a reference side, and the target ratio."""

    name: str
    project: Rates
    reference: Rates
    target: float | None  # the ratio to reach, or None where only reported

    @property
    def ratio(self) -> float:
        """Median over rounds of project rate / reference rate (the sides ran interleaved)."""
        return statistics.median(
            p / r for p, r in zip(self.project.values, self.reference.values, strict=True)
        )

    @property
    def met(self) -> bool | None:
        """Whether the ratio reaches the target (None without a target)."""
        return None if self.target is None else self.ratio >= self.target

    def to_dict(self) -> dict:
        """Plain mapping for results.json."""
        return {
            "name": self.name,
            "project": {
                "side": self.project.name,
                "rates": self.project.values,
                "median": self.project.median,
            },
            "reference": {
                "side": self.reference.name,
                "rates": self.reference.values,
                "median": self.reference.median,
            },
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
        }


@dataclass
class BenchSettings:
    """How much data each benchmark reads and how often it repeats."""

    data_dir: Path
    work_dir: Path  # full-size JPEG copies are made here, once
    images: int = 2000  # labelled photos per pipeline epoch (the same files on both sides)
    full_size_images: int = 1000
    train_steps: int = 20  # batches per training measurement
    repeats: int = 3
    memory_images: tuple[int, ...] = (5000, 23000)
    cfg: Config = field(default_factory=lambda: load_config(overrides=SEED_TRAINING, environ={}))


def _sample(settings: BenchSettings, count: int) -> tuple[Path, list[str], list[int]]:
    """A seeded, class-balanced sample of the labelled photos: folder, file names, labels."""
    frame = list_labelled_images(settings.data_dir)
    frame = pd.concat(
        frame[frame["label"] == label].sample(
            n=min((frame["label"] == label).sum(), count // 2), random_state=0
        )
        for label in range(len(CLASS_NAMES))
    )
    return find_train_dir(settings.data_dir), frame["filename"].tolist(), frame["label"].tolist()


def _balanced_head(names: list[str], labels: list[int], count: int) -> tuple[list[str], list[int]]:
    """The first count // 2 images of each class, in order."""
    kept = [
        i
        for label in range(len(CLASS_NAMES))
        for i in [j for j, y in enumerate(labels) if y == label][: count // 2]
    ]
    return [names[i] for i in kept], [labels[i] for i in kept]


def _project_batches(cfg: Config, paths: list[str], labels: list[int]) -> tf.data.Dataset:
    """The project's training batches at the seed's size: decode, resize, cache, shuffle, batch."""
    return make_dataset(
        paths,
        labels,
        image_size=cfg.image_size,
        batch_size=SEED_BATCH_SIZE,
        shuffle_buffer=cfg.shuffle_buffer,
        cache=True,
        seed=cfg.seed,
        bad_images="skip",
    )


def _compiled_seed_network() -> keras.Model:
    """The seed network alone, compiled as the seed compiles it."""
    model = build_seed_cnn(SEED_IMAGE_SIZE)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="categorical_crossentropy")
    return model


def project_train_pipeline(cfg: Config, paths: list[str], labels: list[int]) -> tf.data.Dataset:
    """The project's training input: decode, resize, cache, shuffle, batch, then augment."""
    dataset = _project_batches(cfg, paths, labels)
    augment = build_augmentation(cfg)
    return dataset.map(
        lambda x, y: (augment(x, training=True), y), num_parallel_calls=AUTOTUNE
    ).prefetch(AUTOTUNE)


def _count_dataset(dataset: tf.data.Dataset) -> int:
    """Images in one pass over a batched dataset of (images, labels)."""
    return sum(int(images.shape[0]) for images, _ in dataset)


def _count_seed(iterator) -> int:
    """Images in one epoch of a legacy iterator."""
    return sum(len(batch[0]) for batch in seed_pipeline.batches(iterator, len(iterator)))


def pipeline_comparisons(
    settings: BenchSettings,
    label: str,
    folder: Path,
    names: list[str],
    labels: list[int],
    target: float,
    first_target: float | None = None,
) -> list[Comparison]:
    """Input-pipeline rates, first epoch and steady state.

    The project's pipeline against the seed's ImageDataGenerator.
    """
    cfg = settings.cfg
    paths = [str(folder / name) for name in names]
    categories = [CLASS_NAMES[y] for y in labels]

    def project_first() -> int:
        return _count_dataset(project_train_pipeline(cfg, paths, labels))

    def seed_first() -> int:
        return _count_seed(
            seed_pipeline.seed_train_iterator(
                names, categories, folder, SEED_IMAGE_SIZE, SEED_BATCH_SIZE
            )
        )

    warm = project_train_pipeline(cfg, paths, labels)
    _count_dataset(warm)  # fills the cache
    seed_iterator = seed_pipeline.seed_train_iterator(
        names, categories, folder, SEED_IMAGE_SIZE, SEED_BATCH_SIZE
    )
    first = interleaved({"project": project_first, "seed": seed_first}, settings.repeats)
    steady = interleaved(
        {"project": lambda: _count_dataset(warm), "seed": lambda: _count_seed(seed_iterator)},
        settings.repeats,
    )
    return [
        Comparison(
            f"input pipeline, {label}, first epoch", first["project"], first["seed"], first_target
        ),
        Comparison(
            f"input pipeline, {label}, steady state", steady["project"], steady["seed"], target
        ),
    ]


def _fit_rate(model: keras.Model, data_for: Callable[[], object], steps: int) -> Callable[[], int]:
    """A measurement: `steps` training steps of `model` on fresh `data_for()`.

    The measurement returns the number of images seen.
    """

    def run() -> int:
        model.fit(data_for(), steps_per_epoch=steps, epochs=1, verbose=0)
        return steps * SEED_BATCH_SIZE

    return run


def training_comparisons(
    settings: BenchSettings, folder: Path, names: list[str], labels: list[int]
) -> list[Comparison]:
    """Training rate of the seed network, by input.

    Fed by the project's pipeline, by the seed's, and from a batch in memory.
    """
    cfg = settings.cfg
    keras.mixed_precision.set_global_policy("float32")  # the seed trains in float32
    steps = settings.train_steps
    paths = [str(folder / name) for name in names]
    project_data = _project_batches(cfg, paths, labels).repeat()
    _count_dataset(project_data.take(math.ceil(len(paths) / SEED_BATCH_SIZE)))  # fills the cache
    project_model = build_model(cfg)  # the seed network behind the project's augmentation layers
    seed_model = _compiled_seed_network()  # augmentation happens in the seed's generator
    bound_model = _compiled_seed_network()
    images, onehot = next(iter(project_data))
    in_memory = batch_in_memory(images, onehot)
    seed_iterator = seed_pipeline.seed_train_iterator(
        names, [CLASS_NAMES[y] for y in labels], folder, SEED_IMAGE_SIZE, SEED_BATCH_SIZE
    )
    sides = {
        "project": _fit_rate(project_model, lambda: project_data, steps),
        "seed": _fit_rate(seed_model, lambda: seed_pipeline.batches(seed_iterator, steps), steps),
        "in-memory bound": _fit_rate(bound_model, lambda: in_memory, steps),
    }
    for run in sides.values():  # trace and warm up every side before measuring
        run()
    rates = interleaved(sides, settings.repeats)
    return [
        Comparison(
            "training the seed network, project pipeline vs seed pipeline",
            rates["project"],
            rates["seed"],
            None,
        ),
        Comparison(
            "training the seed network, project pipeline vs in-memory bound",
            rates["project"],
            rates["in-memory bound"],
            0.9,
        ),
    ]


def prediction_comparisons(settings: BenchSettings) -> list[Comparison]:
    """Prediction rate over the test photos.

    The project's path against the seed's flow_from_dataframe; against the same network
    predicting decoded images already in memory (the compute bound); and against decoding every
    photo first and then predicting them from memory: what the path would reach if decoding did
    not overlap the network at all.
    """
    keras.mixed_precision.set_global_policy("float32")
    test = list_test_images(settings.data_dir / TEST_DIR)
    paths = test["path"].tolist()
    model = build_seed_cnn(SEED_IMAGE_SIZE)
    folder = Path(paths[0]).parent
    names = [Path(p).name for p in paths]

    def project() -> int:
        return len(predict_dog_probability(model, paths, batch_size=SEED_BATCH_SIZE))

    def seed() -> int:
        iterator = seed_pipeline.seed_test_iterator(names, folder, SEED_IMAGE_SIZE, SEED_BATCH_SIZE)
        return len(model.predict(seed_pipeline.batches(iterator, len(iterator)), verbose=0))

    def predict_decoded(images: np.ndarray) -> int:
        # One compiled call per batch, as the project's path runs the network: model.predict's
        # per-call set-up would lower the bound (docs/history.md).
        batches = range(0, len(images), SEED_BATCH_SIZE)
        return sum(len(model.predict_on_batch(images[i : i + SEED_BATCH_SIZE])) for i in batches)

    decoded = load_images(paths, SEED_IMAGE_SIZE, batch_size=SEED_BATCH_SIZE)
    sides = {
        "project": project,
        "seed": seed,
        "in-memory bound": lambda: predict_decoded(decoded),
        "decode, then predict": lambda: predict_decoded(
            load_images(paths, SEED_IMAGE_SIZE, batch_size=SEED_BATCH_SIZE)
        ),
    }
    for run in sides.values():  # warm up
        run()
    rates = interleaved(sides, settings.repeats)
    return [
        Comparison(f"prediction, {len(paths)} test photos", rates["project"], rates["seed"], 1.0),
        Comparison(
            "prediction, project vs in-memory bound",
            rates["project"],
            rates["in-memory bound"],
            0.9,
        ),
        Comparison(
            "prediction, project vs decoding all, then predicting (no overlap)",
            rates["project"],
            rates["decode, then predict"],
            None,
        ),
    ]


# Steps per training measurement of the default network: a mixed_bfloat16 step took over 10 s on
# the reference machine's AVX2 CPU (docs/history.md), so a few steps already take long.
HARDWARE_TRAIN_STEPS = 2


def _training_rate(cfg: Config, repeats: int) -> dict:
    """The network of `cfg` training on one batch held in memory: no input pipeline involved."""
    model, train = in_memory_training(cfg, HARDWARE_TRAIN_STEPS)
    rates = interleaved({"training": train}, repeats)["training"]
    keras.mixed_precision.set_global_policy("float32")
    return {
        "name": f"{cfg.model} training, {cfg.image_size} px, {cfg.precision}, "
        f"batch {cfg.batch_size}",
        "rates": rates.values,
        "median": rates.median,
        "forward_flops_per_image": model_flops(inference_network(model)),
    }


def process_comparison(sides: dict[str, dict[str, str]], settings: BenchSettings) -> Comparison:
    """The default network's float32 training rate on the first side against the second.

    oneDNN on (the project's setting) against off; Keras on TensorFlow (the default) against JAX.
    """
    rates = process_rates(sides, settings.train_steps, settings.repeats)
    cfg = load_config(overrides=FLOAT32_TRAINING, environ={})
    ours, reference = sides
    return Comparison(
        f"training {cfg.model}, {cfg.image_size} px, float32, in memory: {ours} vs {reference}",
        rates[ours],
        rates[reference],
        None,
    )


def hardware_limit(settings: BenchSettings) -> dict:
    """The CPU's matmul and conv2d peaks, and the default network's training against them.

    The default recipe (its network, image size and batch size, its augmentation layers included)
    at the precision `auto` picks on this CPU, and in float32 too where that is not float32.
    """
    peaks = measure_peaks()
    conv_peaks = {p.dtype: p.flops_per_second for p in peaks if p.op.startswith("conv2d")}
    default = load_config(environ={})
    training = []
    for precision in dict.fromkeys((default.precision, "float32")):
        cfg = load_config(overrides={"precision": precision}, environ={})
        row = _training_rate(cfg, settings.repeats)
        row["fraction_of_conv_peak"] = {
            dtype: utilization(row["forward_flops_per_image"], row["median"], peak)
            for dtype, peak in conv_peaks.items()
        }
        training.append(row)
    return {"peaks": [p.to_dict() for p in peaks], "training": training, "onednn": onednn_enabled()}


def memory_rows(settings: BenchSettings) -> list[dict]:
    """Peak resident memory of one pipeline epoch.

    Cache off for each image count, and cache on for the largest.
    """
    rows = [
        measure_in_subprocess(settings.data_dir, n, False, SEED_IMAGE_SIZE, SEED_BATCH_SIZE)
        for n in settings.memory_images
    ]
    rows.append(
        measure_in_subprocess(
            settings.data_dir, max(settings.memory_images), True, SEED_IMAGE_SIZE, SEED_BATCH_SIZE
        )
    )
    return rows


def run_suite(settings: BenchSettings, report: Callable[[str], None] = print) -> dict:
    """Every benchmark in turn; the results as a mapping (comparisons and memory rows)."""
    folder, names, labels = _sample(settings, settings.images)
    report(f"input pipeline on {len(names)} real 128 px photos ...")
    comparisons = pipeline_comparisons(settings, "128 px photos", folder, names, labels, target=3.0)
    full_names, full_labels = _balanced_head(names, labels, settings.full_size_images)
    full_folder = settings.work_dir / "full-size"
    report(f"making {len(full_names)} full-size JPEGs in {full_folder} (once) ...")
    make_full_size_copies([folder / n for n in full_names], full_folder)
    report("input pipeline on full-size JPEGs ...")
    comparisons += pipeline_comparisons(
        settings,
        "full-size JPEGs",
        full_folder,
        full_names,
        full_labels,
        target=5.0,
        first_target=2.5,
    )
    report("training ...")
    comparisons += training_comparisons(settings, folder, names, labels)
    report("prediction ...")
    comparisons += prediction_comparisons(settings)
    report("training with oneDNN on and off, and on TensorFlow and JAX (one process each) ...")
    comparisons.append(process_comparison(ONEDNN_SIDES, settings))
    comparisons.append(process_comparison(BACKEND_SIDES, settings))
    report("hardware limit: matmul and conv2d peaks, the default network's training ...")
    hardware = hardware_limit(settings)
    report("memory (one process per measurement) ...")
    memory = memory_rows(settings)
    return {
        "comparisons": [c.to_dict() for c in comparisons],
        "hardware": hardware,
        "memory": memory,
        "repeats": settings.repeats,
    }


def format_table(results: dict) -> str:
    """The results as Markdown tables: rates (median over interleaved rounds) and ratios; memory."""
    lines = [
        f"Rates in images/s: median (best) of {results['repeats']} interleaved rounds; "
        "ratio: median over rounds of project / reference.",
        "",
        "| benchmark | project | reference | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for row in results["comparisons"]:
        p, r = row["project"], row["reference"]
        target = (
            "—"
            if row["target"] is None
            else f"≥ {row['target']:g}× {'met' if row['met'] else 'MISSED'}"
        )
        lines.append(
            f"| {row['name']} | {p['median']:,.0f} ({max(p['rates']):,.0f}) | "
            f"{r['side']}: {r['median']:,.0f} ({max(r['rates']):,.0f}) | "
            f"{row['ratio']:.2f}× | {target} |"
        )
    if "hardware" in results:
        lines += ["", *hardware_table(results["hardware"])]
    lines += [
        "",
        "| one pipeline epoch | images | resident before | peak during the epoch | growth |",
        "|---|---|---|---|---|",
    ]
    for row in results["memory"]:
        lines.append(
            f"| cache {'on' if row['cache'] else 'off'} | {row['images']:,} "
            f"| {row['rss_before_mib']:,.0f} MiB "
            f"| {row['peak_rss_mib']:,.0f} MiB | {row['epoch_growth_mib']:,.0f} MiB |"
        )
    return "\n".join(lines)


def hardware_table(hardware: dict) -> list[str]:
    """Table lines: each op's peak by dtype, then training as a fraction of the conv2d peaks."""
    dtypes = list(dict.fromkeys(p["dtype"] for p in hardware["peaks"]))
    lines = [
        f"| hardware limit (GFLOP/s), oneDNN {'on' if hardware['onednn'] else 'off'} "
        f"| {' | '.join(dtypes)} |",
        "|---|" + "---|" * len(dtypes),
    ]
    for op in dict.fromkeys(p["op"] for p in hardware["peaks"]):
        rate = {p["dtype"]: p["flops_per_second"] for p in hardware["peaks"] if p["op"] == op}
        lines.append(f"| {op} | " + " | ".join(f"{rate[d] / 1e9:,.1f}" for d in dtypes) + " |")
    for train in hardware["training"]:
        flops = 3 * train["forward_flops_per_image"] * train["median"]
        fractions = train["fraction_of_conv_peak"]
        lines.append(
            f"| {train['name']}: {train['median']:,.0f} images/s × 3 × "
            f"{train['forward_flops_per_image'] / 1e6:,.0f} MFLOP = {flops / 1e9:,.1f} GFLOP/s, "
            "share of the conv2d peak | "
            + " | ".join(f"{fractions[d]:.0%}" if d in fractions else "—" for d in dtypes)
            + " |"
        )
    return lines
