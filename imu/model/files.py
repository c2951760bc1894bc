"""Safe model files: skops (never pickle) plus a JSON manifest, and the shipped default.

A model file ``MODEL.skops`` is a skops zip archive holding a dict
``{estimator, threshold, training_rows, training_labels, training_groups}`` with the
manifest embedded as the extra archive member ``imu_manifest.json`` (authoritative); a
readable copy is written next to it as ``MODEL.manifest.json``. A model of the kind
``imu train`` picks by default (a sigmoid-calibrated logistic pipeline) also carries the
numbers its prediction needs as the member ``imu_predictor.json``
(:func:`imu.model.predictor.to_payload`, versioned plain JSON).

The decision threshold is the manifest's ``threshold``. The skops payload and the
predictor payload hold copies of it (earlier imu versions read those, so they stay); a file whose
copies differ from the manifest's is refused with a one-line ModelError.

Loading never executes code from the file. A file with the predictor payload is
predicted from it (:func:`imu.model.predictor.from_payload`: arrays and numbers only, no
scikit-learn, no skops: an ``imu analyze`` does not pay their 3 s of imports); the skops
pipeline stays in the file, the source for training, personalising and every other
model kind. Anything without the payload goes through skops,
which reconstructs only known types; every type skops does not trust by default must be
in :data:`ALLOWED_TYPES` (checked with ``skops.io.get_untrusted_types`` before loading).
The same skops load, with the same check, gives a fast-loaded model its scikit-learn
estimator and training rows when they are first used
(:class:`imu.model.classifier.RepClassifier`). A pickle, a file that is not a skops
archive or lacks the manifest raises a one-line :class:`imu.errors.ModelError`. A model
written with other scikit-learn/skops/numpy versions loads with a
:class:`ModelVersionWarning`.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from imu.errors import ImuError, ModelError
from imu.fileio import atomic_outputs, read_input
from imu.model.classifier import RepClassifier
from imu.model.features import feature_names, input_names
from imu.model.predictor import BASELINE_TYPES, from_payload, to_payload

MANIFEST_MEMBER = "imu_manifest.json"
PREDICTOR_MEMBER = "imu_predictor.json"
PAYLOAD_KEYS = frozenset({"estimator", "threshold", "training_rows", "training_labels",
                          "training_groups"})
"""The keys of the skops payload dict."""
FORMAT = "imu-rounded-back-classifier"
FORMAT_VERSION = 1
#: Types beyond skops' default trust that an imu model file may contain. Nothing else loads.
#: (Files written before BaselineDeviation moved to imu.model.baseline name the old path:
#: both are :data:`imu.model.predictor.BASELINE_TYPES`.)
ALLOWED_TYPES: frozenset[str] = frozenset({
    *BASELINE_TYPES,
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.tree._tree.Tree",
})
#: Environment variable naming the default model file (overrides the shipped one).
DEFAULT_MODEL_ENV = "IMU_MODEL"
DEFAULT_MODEL_NAME = "default.skops"


class ModelVersionWarning(UserWarning):
    """The model file was written with other library versions than the running ones."""


def library_versions() -> dict[str, str]:
    """Versions that matter for reading a model file back."""
    import platform

    from imu import __version__

    return {"imu": __version__, **{name: _version(name) for name in _LIBRARIES},
            "python": platform.python_version()}


_LIBRARIES = ("scikit-learn", "skops", "numpy", "scipy")
_COMPARED = ("scikit-learn", "skops", "numpy")
"""Libraries whose versions a model file records, and those a different one warns about."""


def _version(name: str) -> str:
    """An installed library's version, from its package metadata (importing scikit-learn,
    skops and scipy just for this would cost seconds); numpy is imported anyway."""
    if name == "numpy":
        return np.__version__
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_tree(path: str | os.PathLike) -> str:
    """SHA-256 of a session file, or of a multi-file export's folder: of the sorted lines
    ``relative/name sha256`` of every file in it (a model manifest's session hashes)."""
    folder = Path(path)
    if not folder.is_dir():
        return sha256(folder)
    lines = sorted(f"{f.relative_to(folder).as_posix()} {sha256(f)}\n"
                   for f in folder.rglob("*") if f.is_file())
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def manifest_path(path: str | os.PathLike) -> Path:
    """Where the readable manifest copy of a model file lives."""
    path = Path(path)
    return path.with_name(path.stem + ".manifest.json")


def save_model(model: RepClassifier, path: str | os.PathLike, *, force: bool = True) -> dict:
    """Write ``model`` as a skops archive with its manifest embedded, plus the readable
    copy; return the manifest as written (``model.manifest`` plus format and versions).

    Both files are complete or both absent (:func:`imu.fileio.atomic_outputs`); without
    ``force`` an existing one is refused. A failed write is an InputError naming it."""
    import skops.io as sio

    path = Path(path)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, **model.manifest,
                "input_names": input_names(), "feature_names": feature_names(),
                "threshold": model.threshold, "versions": library_versions()}
    payload = {
        "estimator": model.estimator,
        "threshold": float(model.threshold),
        "training_rows": np.asarray(model.training_rows, dtype=np.float64),
        "training_labels": np.asarray(model.training_labels, dtype=np.int64),
        "training_groups": np.asarray(model.training_groups, dtype=str),
    }
    text = json.dumps(manifest, indent=2, sort_keys=False, default=_json_default)
    predictor = model.predictor
    buffer = io.BytesIO(sio.dumps(payload))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(MANIFEST_MEMBER, text)
        if predictor is not None:
            archive.writestr(PREDICTOR_MEMBER,
                             json.dumps(to_payload(predictor, model.threshold)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_outputs([path, manifest_path(path)], force=force, binary=True) as handles:
        handles[0].write(buffer.getvalue())
        handles[1].write((text + "\n").encode("utf-8"))
    return manifest


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def default_model_path() -> Path:
    """The default model: ``$IMU_MODEL`` if set, else ``models/default.skops`` of the
    checkout (editable install) or the copy installed as package data
    (``imu/models/default.skops``)."""
    override = os.environ.get(DEFAULT_MODEL_ENV)
    if override:
        return Path(override)
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "models" / DEFAULT_MODEL_NAME,
                      package / "models" / DEFAULT_MODEL_NAME):
        if candidate.is_file():
            return candidate
    raise ModelError(f"no default model found (looked for models/{DEFAULT_MODEL_NAME} next to "
                     f"the imu package); pass --model or set {DEFAULT_MODEL_ENV}")


MAX_MODEL_BYTES = 256 << 20
"""Largest model file read (the shipped one is 0.9 MB; 100k training rows ~25 MB)."""
MAX_MEMBER_BYTES = {"schema.json": 16 << 20, MANIFEST_MEMBER: 16 << 20,
                    PREDICTOR_MEMBER: 16 << 20}
"""Largest uncompressed size of the archive's JSON members; any other member and the
whole archive: :data:`MAX_ARCHIVE_BYTES` (checked before a member is read: zip bombs)."""
MAX_ARCHIVE_BYTES = 512 << 20


def _check_sizes(archive: zipfile.ZipFile, where: str) -> None:
    """ModelError for a member (or all of them) larger than the caps, as the archive's
    directory declares them (zipfile never reads past a member's declared size)."""
    total = 0
    for info in archive.infolist():
        cap = MAX_MEMBER_BYTES.get(info.filename, MAX_ARCHIVE_BYTES)
        total += info.file_size
        if info.file_size > cap or total > MAX_ARCHIVE_BYTES:
            raise ModelError(f"{where}: archive member {info.filename!r} expands to "
                             f"{info.file_size / (1 << 20):.0f} MiB (at most {cap >> 20} MiB, "
                             f"{MAX_ARCHIVE_BYTES >> 20} MiB in all); not an imu model file")


USE_TRAIN = "use a model file written by 'imu train' (or the shipped models/default.skops)"
"""What to do about a file that is not an imu model (the end of those errors)."""


def read_manifest(data: bytes, where: str) -> dict:
    """The embedded manifest of a model file's bytes (ModelError if it is not one, if an
    archive member is too large, or if the manifest fails :func:`check_manifest`)."""
    if data[:1] == b"\x80" or data[:2] in (b"(d", b"(l", b"}q", b"]q"):
        raise ModelError(f"{where}: looks like a pickle file; imu never loads pickles "
                         "(train a model with 'imu train', which writes skops files)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_sizes(archive, where)
            names = archive.namelist()
            if "schema.json" not in names:
                raise ModelError(f"{where}: a zip archive but not a skops model file; {USE_TRAIN}")
            if MANIFEST_MEMBER not in names:
                raise ModelError(f"{where}: skops file without an imu manifest "
                                 "(not written by 'imu train')")
            manifest = json.loads(archive.read(MANIFEST_MEMBER).decode("utf-8"))
    except (zipfile.BadZipFile, EOFError, OSError):
        raise ModelError(f"{where}: not an imu model file (not a skops zip archive); "
                         f"{USE_TRAIN}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(f"{where}: the embedded manifest is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{where}: manifest format is not {FORMAT!r}; {USE_TRAIN}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{where}: model format version {manifest.get('format_version')!r}; "
                         f"this imu reads version {FORMAT_VERSION} (retrain with 'imu train')")
    check_manifest(manifest, where)
    return manifest


def _label(value: object) -> str | None:
    from imu.model.labels import label_problem

    return "a string" if not isinstance(value, str) else label_problem(value)


def _number(value: object) -> str | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return None if ok else "a finite number"


def _probability(value: object) -> str | None:
    return _number(value) or (None if 0.0 <= value <= 1.0 else "a number in [0, 1]")


def _text(value: object) -> str | None:
    return None if isinstance(value, str) else "a string"


def _texts(value: object) -> str | None:
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    return None if ok else "a list of strings"


def _labels(value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return "a non-empty list of labels"
    return next((f"a list of labels: {p}" for p in map(_label, value) if p), None)


def _mapping(value: object) -> str | None:
    return None if isinstance(value, dict) else "an object"


def _versions(value: object) -> str | None:
    ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return None if ok else "an object of version strings"


def _rates(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"min", "max"}:
        return "null or an object {min, max}"
    if _number(value["min"]) or _number(value["max"]) or not 0 < value["min"] <= value["max"]:
        return "null or {min, max}: rates in Hz, 0 < min <= max"
    return None


def _names_of(expected: Callable[[], list[str]]) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        if value == expected():
            return None
        return f"the {len(expected())} names this imu computes (docs/classifier.md), in order"
    return check


#: The manifest's schema: key -> (required, check returning what the value must be or None).
#: Keys not listed pass unchecked. A small table of checks rather than a JSON Schema
#: library: ~15 keys, and the feature names are compared with what the code computes.
MANIFEST_SCHEMA: dict[str, tuple[bool, Callable[[object], str | None]]] = {
    "positive_label": (False, _label),  # absent: "rounded" (RepClassifier.positive_label)
    "negative_label": (False, _label),
    "labels": (False, _labels),
    "threshold": (True, _probability),
    "feature_names": (True, _names_of(feature_names)),
    "input_names": (False, _names_of(input_names)),
    "versions": (False, _versions),
    "cv": (False, _mapping),
    "sampling_rate_hz": (False, _rates),
    "target_sensitivity": (False, _probability),
    "chosen_model": (False, _text),
    "created_utc": (False, _text),
    "command": (False, _text),
    "group_by": (False, _text),
    "training_files": (False, lambda v: None if isinstance(v, list) else "a list"),
    "personalised_from": (False, _mapping),
}


def check_manifest(manifest: dict, where: str) -> None:
    """ModelError naming the first key of ``manifest`` that :data:`MANIFEST_SCHEMA` refuses
    (missing, or a value of the wrong type or content)."""
    for key, (required, check) in MANIFEST_SCHEMA.items():
        if key not in manifest:
            if required:
                raise ModelError(f"{where}: manifest without {key!r} (not written by 'imu train')")
            continue
        problem = check(manifest[key])
        if problem:
            raise ModelError(f"{where}: manifest {key!r} must be {problem} "
                             "(not written by 'imu train', or edited)")


def _check_versions(manifest: dict, where: str) -> None:
    saved = manifest.get("versions", {})
    current = {name: _version(name) for name in _COMPARED}
    differ = [f"{name} {saved.get(name)} (now {current[name]})"
              for name in _COMPARED if saved.get(name) != current[name]]
    if differ:
        warnings.warn(f"{where}: model written with {', '.join(differ)}; its predictions may "
                      "differ, retrain with 'imu train' if in doubt", ModelVersionWarning,
                      stacklevel=3)


def load_model(path: str | os.PathLike | None = None) -> RepClassifier:
    """Load a model file safely (see the module docstring); ``None`` = the default model.

    The result has the engine's hook ``classify(record, history) -> (p_rounded, rounded)``.
    """
    path = Path(path) if path is not None else default_model_path()
    where = str(path)
    if not path.exists():
        raise ModelError(f"{where}: no such model file")
    try:
        data = read_input(path, limit=MAX_MODEL_BYTES)  # a device is refused unread
    except ImuError as exc:
        raise ModelError(f"model file {exc}") from None
    manifest = read_manifest(data, where)
    threshold = float(manifest["threshold"])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        direct = None
        if PREDICTOR_MEMBER in archive.namelist():
            direct = from_payload(_json_member(archive, PREDICTOR_MEMBER, where), where)
    if direct is None:
        trusted = _checked_types(data, where)
        _check_versions(manifest, where)
        payload = _load_payload(data, where, trusted, threshold)
        return RepClassifier(
            payload["estimator"], threshold, manifest,
            payload["training_rows"], payload["training_labels"], payload["training_groups"])
    _check_versions(manifest, where)
    predictor, copy = direct
    _same_threshold(threshold, copy, PREDICTOR_MEMBER, where)
    return RepClassifier(None, threshold, manifest, predictor=predictor,
                         load_full=lambda: _load_payload(data, where, _checked_types(data, where),
                                                         threshold))


def _same_threshold(threshold: float, copy: object, member: str, where: str) -> None:
    """ModelError when a copy of the threshold differs from the manifest's (the source)."""
    if copy != threshold:
        raise ModelError(f"{where}: the threshold in {member} ({copy!r}) differs from the "
                         f"manifest's ({threshold!r}); the file was edited or damaged "
                         "(retrain with 'imu train')")


def _json_member(archive: zipfile.ZipFile, name: str, where: str) -> object:
    """The JSON value of archive member ``name`` (ModelError if it is not JSON)."""
    try:
        return json.loads(archive.read(name).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile, OSError, EOFError):
        raise ModelError(f"{where}: the archive member {name} is damaged") from None


def _checked_types(data: bytes, where: str) -> list[str]:
    """The types of a model file's bytes that skops does not trust by default; ModelError
    if any is outside :data:`ALLOWED_TYPES`."""
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # noqa: BLE001 - any malformed archive is the user's file problem
        raise ModelError(f"{where}: damaged skops archive ({type(exc).__name__})") from None
    refused = sorted(set(untrusted) - ALLOWED_TYPES)
    if refused:
        raise ModelError(f"{where}: refusing to load types outside imu's allow-list: "
                         f"{', '.join(refused)} (only load model files written by 'imu train')")
    return untrusted


def _load_payload(data: bytes, where: str, trusted: list[str], threshold: float) -> dict:
    """The skops payload of a model file's bytes whose types :func:`_checked_types` passed;
    its threshold must be the manifest's ``threshold``."""
    import skops.io as sio

    try:
        payload = sio.loads(data, trusted=trusted)
    except Exception as exc:  # noqa: BLE001 - skops raises many types on malformed content
        raise ModelError(f"{where}: cannot load the model ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or set(payload) != PAYLOAD_KEYS:
        raise ModelError(f"{where}: unexpected content (not written by 'imu train')")
    _same_threshold(threshold, payload["threshold"], "the skops payload", where)
    return payload
