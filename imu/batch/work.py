"""The work of one recording, as a worker process runs it (local pool or Dask worker).

:func:`run_recording` is a plain module-level function of plain arguments, so any
executor can ship it by reference. Each worker process loads the compiled kernels and
the model once, on its first recording (:func:`_worker`), not once per recording.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from imu.batch.discover import Recording, filesystem, is_url
from imu.errors import ImuError

MEASUREMENT_OPTIONS = (
    "mounting", "lift", "hyperextension_deg", "flexion_limit_deg", "set_rest_s", "rest_pause_s",
)  # fmt: skip
"""The measurement options of ``imu analyze`` (``add_measurement_arguments``)."""
INPUT_OPTIONS = ("format", "acc_unit", "gyr_unit")
"""The input options of ``imu analyze`` (``add_input_arguments``)."""

SESSION_COLUMNS = (
    "session", "status", "n_samples", "duration_s", "sampling_rate_hz", "calibration_ok",
    "calibration_method", "calibration_quality", "calibration_mode", "calibration_message",
    "mounting", "n_reps",
    "n_sets", "n_rounded", "n_hyperextended", "n_gaps", "gap_total_s", "n_restarts",
    "warnings", "sha256",
)  # fmt: skip
"""Columns of ``sessions.csv``: one row per recording, ``status`` ``ok`` or ``failed``."""


@dataclass(frozen=True)
class Options:
    """How every recording of a batch is read and measured: ``imu analyze``'s options.

    ``model``: a model file, ``"default"`` (the shipped model) or None (no classifier).
    """

    format: str | None = None
    acc_unit: str | None = None
    gyr_unit: str | None = None
    mounting: str | None = None
    lift: str = "deadlift"
    hyperextension_deg: float | None = None
    flexion_limit_deg: float | None = None
    set_rest_s: float | None = None
    rest_pause_s: float | None = None
    model: str | None = "default"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        """From a command line with ``imu analyze``'s input, measurement and model options."""
        values = {name: getattr(args, name, None) for name in (*INPUT_OPTIONS, *MEASUREMENT_OPTIONS)}
        values["lift"] = values["lift"] or "deadlift"
        model = None if getattr(args, "no_model", False) else (args.model or "default")
        return cls(**values, model=model)

    def engine_settings(self):
        """The engine settings ``imu analyze`` uses with these options (InputError for a bad
        value, so a batch can check them before any work)."""
        from imu.measure import measurement_settings
        from imu.pipeline import engine_settings
        from imu.pipeline.calibration import parse_mounting

        if self.mounting is not None:
            parse_mounting(self.mounting)
        options = asdict(self)
        return measurement_settings(engine_settings(**{n: options[n] for n in MEASUREMENT_OPTIONS}))

    def key(self) -> str:
        """SHA-256 of everything a result depends on besides the recording's bytes: these
        options, the model file's bytes and imu's version."""
        from imu import __version__

        model = self.model
        if model is not None:
            from imu.model.files import default_model_path, sha256

            model = sha256(default_model_path() if model == "default" else model)
        text = json.dumps({**asdict(self), "model": model, "imu": __version__}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def content_hash(paths: tuple[str, ...], blobs: list[bytes] | None = None) -> str:
    """SHA-256 of a recording's bytes (its files', or ``blobs`` already read): of its one
    file, or of the sorted lines ``name sha256`` of its files (an export's folder)."""
    digests = []
    for i, path in enumerate(paths):
        digest = hashlib.sha256()
        if blobs is not None:
            digest.update(blobs[i])
        else:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        digests.append(digest.hexdigest())
    if len(paths) == 1:
        return digests[0]
    lines = sorted(f"{Path(p).name} {d}\n" for p, d in zip(paths, digests, strict=True))
    return hashlib.sha256("".join(lines).encode()).hexdigest()


_STATE: dict[Options, tuple] = {}
"""Per worker process: options -> (engine settings, classifier, model summary)."""


def _worker(options: Options) -> tuple:
    """Settings and classifier of ``options``, loaded once per process (the kernels too)."""
    state = _STATE.get(options)
    if state is None:
        from imu.measure import load_classifier
        from imu.pipeline.fusion import warm_up

        warm_up(notice_after_s=None)  # the client says it once for all workers
        state = (options.engine_settings(), *load_classifier(options.model))
        _STATE.clear()  # one batch at a time: the previous one's model is dropped
        _STATE[options] = state
    return state


def run_recording(recording: Recording, options: Options, known_sha256: str | None = None) -> dict:
    """Measure one recording; a journal entry (:mod:`imu.batch.store`).

    ``known_sha256``: the content hash of a result already kept for these options; if
    the recording still has it, nothing is measured and the entry says ``unchanged``.
    Never raises for a bad recording: its one-line error is in the entry.
    """
    entry: dict = {"session": recording.session, "paths": list(recording.paths)}
    try:
        blobs = [_read(p) for p in recording.paths]  # read once: hashed and measured
    except ImuError as exc:  # names the file: no such file, a device, fsspec missing, ...
        return {**entry, "sha256": None, "status": "failed", "error": str(exc)}
    except OSError as exc:  # from a URL's file system
        return {**entry, "sha256": None, "status": "failed",
                "error": f"{recording.session}: cannot read ({exc.strerror or exc})"}
    entry["sha256"] = content_hash(recording.paths, blobs)
    if known_sha256 is not None and entry["sha256"] == known_sha256:
        return {**entry, "status": "unchanged"}
    try:
        return {**entry, **_measure(recording, options, blobs)}
    except ImuError as exc:
        return {**entry, "status": "failed", "error": str(exc)}
    except MemoryError:
        return {**entry, "status": "failed", "error": "out of memory while measuring"}
    except Exception as exc:  # noqa: BLE001 (a bug: listed like a damaged file, the batch goes on)
        what = " ".join(str(exc).split())[:200]
        return {**entry, "status": "failed",
                "error": f"unexpected {type(exc).__name__} (please report): {what}"}


def _read(path: str) -> bytes:
    """A recording's file, whole: from a URL (fsspec) or from this machine (a regular file;
    :func:`imu.fileio.read_input` refuses devices, as :func:`imu.importers.load` does)."""
    if not is_url(path):
        from imu.fileio import read_input

        return read_input(path, pipe=False)
    fs, name = filesystem(path)
    with fs.open(name, "rb") as handle:
        return handle.read()


def _load(recording: Recording, options: Options, blobs: list[bytes]):
    """The recording as a Session from the bytes of its files, read once by :func:`_read`
    (as :func:`imu.importers.load` reads its paths: zip members, gunzipped files, gzip
    data cut off keeping its warning)."""
    from imu.importers import load_files
    from imu.importers._sources import from_bytes

    files = [f for p, b in zip(recording.paths, blobs, strict=True) for f in from_bytes(p, b)]
    return load_files(files, options.format, options.acc_unit, options.gyr_unit)


def _measure(recording: Recording, options: Options, blobs: list[bytes]) -> dict:
    from imu.measure import json_safe, measure

    settings, classifier, model_info = _worker(options)
    session = _load(recording, options, blobs)
    analysis, result = measure(session, settings, classifier, model_info)
    result = json_safe(result)
    time_s = analysis.angles[:, 0]
    calibration, quality, reps = result["calibration"], result["quality"], result["reps"]
    row = {
        "session": recording.session,
        "status": "ok",
        "n_samples": quality["n_samples"],
        # rounded as every *_s of the result is (json_safe): no 388.97000000000116
        "duration_s": json_safe({"duration_s": float(time_s[-1] - time_s[0])
                                 if len(time_s) else 0.0})["duration_s"],
        "sampling_rate_hz": result["sampling_rate_hz"],
        "calibration_ok": bool(calibration.get("ok")),
        "calibration_method": calibration.get("method"),
        "calibration_quality": calibration.get("quality"),
        "calibration_mode": calibration.get("mode"),
        "calibration_message": calibration.get("message"),
        "mounting": calibration.get("mounting"),
        "n_reps": len(reps),
        "n_sets": len(result["sets"]),
        "n_rounded": sum(bool(r.get("rounded")) for r in reps),
        "n_hyperextended": sum(bool(r.get("hyperextended")) for r in reps),
        "n_gaps": quality.get("n_gaps", 0),
        "gap_total_s": quality.get("gap_total_s", 0.0),
        "n_restarts": quality.get("n_restarts", 0),
        "warnings": " | ".join(result["warnings"]),
    }
    return {"status": "ok", "reps": reps, "session_row": row}
