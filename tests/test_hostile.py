"""Hostile environments and files from strangers (issue 17), as a tester attacks ``imu``:
devices and links as outputs, a full disk, Ctrl-C mid-write, clock jumps, character
devices as inputs, path traversal in labels files, crafted model manifests, zip bombs,
unknown labels, wrong gyroscope units, exit statuses. Each case names the defect it
guards against; every output must be complete or absent (imu.fileio).

The session is SYNTHETIC (imu.sim lifter 1, seed 4, two short sets at 100 Hz; the fixture
regenerates it).
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imu.cli import main
from imu.errors import InputError, ModelError
from imu.fileio import atomic_output, atomic_outputs
from imu.model.files import MANIFEST_MEMBER, default_model_path, load_model
from imu.model.workflow import targets
from imu.pipeline import fusion
from imu.session import Session, write_session
from imu.sim import demo_session, make_lifter, simulate

IMU = [sys.executable, "-m", "imu"]


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Session:
    """Two short synthetic sets at 100 Hz (imu.sim lifter 1, seed 4)."""
    script = demo_session(make_lifter(1), seed=4, n_sets=2, reps_per_set=(3, 4), rest_s=(20, 25))
    return simulate(script, sampling_rate_hz=100, seed=4).session


@pytest.fixture(scope="module")
def session_csv(recording, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "sim.csv"
    write_session(recording, path)
    return path


def one_line_error(capsys, argv: list[str], *words: str, status: int = 2) -> str:
    """Run ``imu ARGV`` in-process: the status, and one stderr line holding every word."""
    assert main(argv) == status
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for word in words:
        assert word in err, (word, err)
    return err


def char_device(tmp_path: Path) -> Path:
    """A character device to write to: a private /dev/null made with mknod when allowed
    (root: today's code would replace the real one), else /dev/null (a rename over it is
    then refused anyway)."""
    private = tmp_path / "null"
    try:
        os.mknod(private, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError:
        return Path(os.devnull)
    return private


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# --------------------------------------------------------------------------- outputs


def test_a_character_device_output_is_written_through_never_replaced(tmp_path, session_csv):
    device = char_device(tmp_path)
    assert main(["label", str(session_csv), "-o", str(device), "--force"]) == 0  # 17.1
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert main(["analyze", str(session_csv), "--no-model", "--reps", str(device)]) == 0
    assert stat.S_ISCHR(os.stat(device).st_mode)  # no --force needed: nothing is replaced


def test_a_fifo_output_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    with atomic_output(fifo, binary=True) as handle:
        handle.write(b"time_s\n1.0\n")
    reader.join(10)
    assert received == [b"time_s\n1.0\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_output_is_followed_and_stays_a_link(tmp_path, session_csv):
    """The rule (docs/architecture.md): write through the link, replace its target whole."""
    target = tmp_path / "real" / "labels.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "labels.csv"
    link.symlink_to(target)
    assert main(["label", str(session_csv), "-o", str(link)]) == 2  # target exists: --force
    assert main(["label", str(session_csv), "-o", str(link), "--force"]) == 0
    assert link.is_symlink() and target.read_text().startswith("session,start_s,end_s,label")
    dangling = tmp_path / "new.csv"
    dangling.symlink_to(tmp_path / "real" / "made.csv")
    with atomic_output(dangling) as handle:
        handle.write("x\n")
    assert dangling.is_symlink() and (tmp_path / "real" / "made.csv").read_text() == "x\n"
    assert leftovers(tmp_path) == leftovers(target.parent) == []


def test_a_replaced_file_keeps_its_permissions_and_a_new_one_gets_the_usual(tmp_path):
    kept = tmp_path / "kept.csv"
    kept.write_text("old\n")
    kept.chmod(0o640)
    with atomic_output(kept, force=True) as handle:
        handle.write("new\n")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() == "new\n"
    mask = os.umask(0o022)
    os.umask(mask)
    with atomic_output(tmp_path / "new.csv") as handle:
        handle.write("x\n")
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o666 & ~mask  # not 0600


def test_a_socket_or_directory_output_is_refused(tmp_path, capsys, session_csv):
    server = socket.socket(socket.AF_UNIX)
    sock = tmp_path / "s.sock"
    server.bind(str(sock))
    try:
        one_line_error(capsys, ["analyze", str(session_csv), "--no-model", "--reps", str(sock)],
                       "--reps is not a regular file, device or pipe", str(sock))
    finally:
        server.close()
    one_line_error(capsys, ["analyze", str(session_csv), "--no-model", "--angles", str(tmp_path)],
                   "--angles is a directory")


@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    """A folder on a full disk: a 256 kB tmpfs filled up when mounting is allowed, else
    writes to files in it fail with ENOSPC at their fsync (how NFS and delayed allocation
    report it)."""
    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                             capture_output=True, check=False).returncode == 0
    if not mounted:
        real_fsync = os.fsync

        def fsync(fd):
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder)):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", fsync)
    yield folder, mounted
    if mounted:
        subprocess.run(["umount", str(folder)], check=False)


def fill(folder: Path) -> None:
    """Fill a tmpfs to the last byte."""
    with open(folder / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_full_disk_keeps_the_previous_report_and_names_it(full_disk, session_csv, capsys):
    folder, mounted = full_disk
    report = folder / "r.html"
    report.write_text("<p>last week's report</p>\n")
    if mounted:
        fill(folder)
    err = one_line_error(capsys, ["report", str(session_csv), "-o", str(report), "--force",
                                  "--no-model"], "No space left on device", str(report))
    assert "nothing was replaced" in err
    assert report.read_text() == "<p>last week's report</p>\n"
    assert leftovers(folder) == []


def test_a_full_disk_leaves_no_truncated_model_and_label_prints_no_counts(
    full_disk, session_csv, capsys
):
    folder, mounted = full_disk
    if mounted:
        fill(folder)
    assert main(["label", str(session_csv), "-o", str(folder / "l.csv")]) == 2
    err = capsys.readouterr().err
    assert "reps," not in err  # no "13 reps, 6 flagged" before the write failed (17.13)
    assert f"{folder / 'l.csv'}: cannot write (No space left on device)" in err
    assert leftovers(folder) == [] and not (folder / "l.csv").exists()


def test_a_model_and_its_manifest_are_written_together_or_not_at_all(tmp_path):
    (tmp_path / "m.manifest.json").mkdir()
    pair = [tmp_path / "m.skops", tmp_path / "m.manifest.json"]
    with pytest.raises(InputError, match="is a directory"), atomic_outputs(pair, force=True):
        pass  # the second output is refused: the first is not written either
    (tmp_path / "m.manifest.json").rmdir()
    with pytest.raises(KeyboardInterrupt), atomic_outputs(pair, binary=True) as (model, manifest):
        model.write(b"PK")
        manifest.write(b"{")
        raise KeyboardInterrupt  # Ctrl-C between the two files
    assert sorted(os.listdir(tmp_path)) == []


def test_a_real_sigint_mid_write_or_between_two_renames(tmp_path, monkeypatch):
    """SIGINT sent to this process: while the bytes are written, nothing is replaced; while
    the files of a pair are renamed, it is held back until both are in place."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        target = tmp_path / "a.csv"
        target.write_text("previous\n")
        with pytest.raises(KeyboardInterrupt), atomic_output(target, force=True) as handle:
            handle.write("time_s\n")
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs between two bytecodes
                handle.write("0.0\n")
        assert target.read_text() == "previous\n" and leftovers(tmp_path) == []
        real_replace = os.replace

        def replace_then_interrupt(source, destination):
            real_replace(source, destination)
            os.kill(os.getpid(), signal.SIGINT)  # after the first of the two renames

        monkeypatch.setattr(os, "replace", replace_then_interrupt)
        pair = [tmp_path / "m.skops", tmp_path / "m.manifest.json"]
        with pytest.raises(KeyboardInterrupt), atomic_outputs(pair) as (model, manifest):
            model.write("model\n")
            manifest.write("manifest\n")
        assert [p.read_text() for p in pair] == ["model\n", "manifest\n"]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_train_refuses_to_overwrite_a_manifest_without_force(tmp_path, capsys):
    manifest = tmp_path / "x.manifest.json"
    manifest.write_text('{"mine": true}\n')
    one_line_error(capsys, ["train", str(tmp_path / "labels.csv"), "-o", str(tmp_path / "x.skops")],
                   "exists already (use --force to overwrite)", str(manifest))
    assert manifest.read_text() == '{"mine": true}\n'


def test_ctrl_c_mid_write_leaves_no_half_file_and_the_rerun_works(
    tmp_path, session_csv, capsys, monkeypatch
):
    angles = tmp_path / "a.csv"
    real_to_csv = pd.DataFrame.to_csv

    def interrupted(self, handle, **options):
        handle.write("time_s,flexion_deg\n0.0,1.0\n")  # part of the table reached the file
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    assert main(["analyze", str(session_csv), "--no-model", "--angles", str(angles)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == []
    monkeypatch.setattr(pd.DataFrame, "to_csv", real_to_csv)
    assert main(["analyze", str(session_csv), "--no-model", "--angles", str(angles)]) == 0
    assert len(pd.read_csv(angles)) == len(pd.read_csv(session_csv, comment="#"))


# --------------------------------------------------------------------------- time jumps


def jumped(recording: Session, folder: Path, jump_s: float | None, last_s: float | None = None):
    data = recording.data.copy()
    times = data["time_s"].to_numpy(copy=True)
    if jump_s is not None:
        times[len(times) // 2:] += jump_s
    if last_s is not None:
        times[-1] = last_s
    data["time_s"] = times
    path = folder / f"jump{jump_s}_{last_s}.csv"
    write_session(Session(data=data, metadata=dict(recording.metadata)), path)
    return path


def reference_bounds(t: np.ndarray, gaps: np.ndarray, chunk_s: float) -> list[tuple[int, int]]:
    """The chunks by their definition: a chunk ends before the first sample at or after
    each tick t0 + k chunk_s (1 ns slack), and before each gap mark."""
    ticks = t[0] + chunk_s * np.arange(1, int((t[-1] - t[0]) / chunk_s) + 1)
    edges = set(np.searchsorted(t, ticks - 1e-9).tolist()) | set(np.flatnonzero(gaps).tolist())
    edges = sorted(e for e in edges if 0 < e < len(t))
    return list(zip([0, *edges], [*edges, len(t)]))


def test_replay_chunks_follow_the_samples_not_the_time_span(recording, tmp_path):
    from imu.ble.source import FileSource
    from imu.importers import load

    source = FileSource(recording, speed=None)
    gaps = np.zeros(len(recording.data), dtype=bool)
    gaps[[100, 2500]] = True
    source._gaps = gaps
    assert source.chunk_bounds() == reference_bounds(recording.samples()[:, 0], gaps, 0.1)
    for jump_s, last_s in ((1e13, None), (None, 1e308)):
        tracemalloc.start()
        try:
            bounds = FileSource(load(jumped(recording, tmp_path, jump_s, last_s))).chunk_bounds()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        plain = FileSource(recording).chunk_bounds()
        assert peak < 50e6  # the load of the ~9000-row file; 8e14 bytes of ticks before
        assert len(bounds) <= len(plain) + 2  # one more at the jump (and the last row)


def test_a_clock_jumping_back_replays_every_sample_with_one_warning(recording, tmp_path, capsys):
    """A clock set back by 1e8 s mid-recording: replayed, not refused, as live would go on
    after a device clock reset; one warning line names the line; no sample lost; the
    analysis restarts there (one gap event, restarted)."""
    path = jumped(recording, tmp_path, -1e8)
    header = next(i for i, line in enumerate(path.read_text().splitlines())
                  if line.startswith("time_s"))
    events = tmp_path / "events.jsonl"
    assert main(["replay", str(path), "--fast", "--no-display", "--no-model",
                 "--events", str(events)]) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if "time goes backwards" in line]
    assert len(warned) == 1 and f"at line {header + 2 + len(recording.data) // 2} " in warned[0]
    logged = [json.loads(line) for line in events.read_text().splitlines()]
    gaps = [e for e in logged if e["type"] == "gap"]
    assert len(gaps) == 1 and gaps[0]["restarted"]

def test_a_real_time_replay_does_not_wait_out_a_clock_jump(recording):
    import asyncio

    from imu.ble.source import FileSource

    data = recording.data.iloc[:400].copy()  # 4 s at 100 Hz, a jump of 1e8 s after 2 s
    data.loc[200:, "time_s"] += 1e8
    source = FileSource(Session(data=data, metadata=dict(recording.metadata)), speed=4.0)

    async def play():
        return [len(b.samples) async for b in source.batches()]

    started = time.monotonic()
    sizes = asyncio.run(asyncio.wait_for(play(), timeout=20))
    elapsed = time.monotonic() - started
    assert sum(sizes) == 400
    assert 1.0 <= elapsed < 3.0  # 4 s of samples and the 2 s pause for the jump, at 4x


def test_replay_of_a_clock_jump_runs_and_an_interrupted_replay_exits_130(
    recording, tmp_path, session_csv, capsys
):
    path = jumped(recording, tmp_path, 1e13)
    assert main(["replay", str(path), "--fast", "--no-display", "--no-model"]) == 0
    assert "1 gap" in capsys.readouterr().out
    live = subprocess.Popen([*IMU, "replay", str(session_csv), "--no-display", "--no-model",
                             "--speed", "10"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert "calibration" in live.stdout.readline()  # at the first bend, ~5 s in
    live.send_signal(signal.SIGINT)
    out, err = live.communicate(timeout=60)
    assert live.returncode == 130, err
    assert "interrupted" in out


# --------------------------------------------------------------------------- devices as inputs


def test_a_character_device_input_is_refused_without_reading(tmp_path, capsys):
    done = subprocess.run([*IMU, "analyze", "/dev/zero", "--no-model"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2
    # (a child process: the compile notice may come first when loading the kernels is slow)
    lines = [ln for ln in done.stderr.splitlines() if ln != fusion.COMPILE_NOTICE]
    assert "\n".join(lines).strip() == (
        "imu analyze: error: /dev/zero: is a character device, not a regular file, a folder "
        "or a pipe")
    one_line_error(capsys, ["label", str(tmp_path / "s.csv"), "-o", str(tmp_path / "l.csv"),
                            "--model", "/dev/zero"], "model file /dev/zero", "character device")
    one_line_error(capsys, ["report", str(tmp_path / "s.csv"), "-o", str(tmp_path / "r.html"),
                            "--loads", "/dev/zero"], "/dev/zero: is a character device")


def test_a_named_pipe_input_is_read(tmp_path, session_csv):
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(session_csv.read_bytes()))
    writer.start()
    assert main(["analyze", str(fifo), "--no-model", "--json"]) == 0
    writer.join(10)


# --------------------------------------------------------------------------- labels from strangers


def labels_file(folder: Path, *rows: str, header: str = "session,start_s,end_s,label") -> Path:
    path = folder / "labels.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.mark.parametrize("session", ["../../../../../../../../etc/passwd", "/etc/passwd",
                                     "dev_link", "/dev/zero"])
def test_a_labels_file_reads_nothing_outside_its_folder_and_no_device(
    tmp_path, capsys, session
):
    (tmp_path / "dev_link").symlink_to("/dev/zero")  # a link is followed: outside too
    path = labels_file(tmp_path, f"{session},1,2,rounded")
    train = ["train", str(path), "-o", str(tmp_path / "m.skops")]
    one_line_error(capsys, train, f"{path}:2: column 'session'", "is outside the labels file's")
    if "zero" in session or "dev" in session:  # allowed outside: still never read
        one_line_error(capsys, [*train, "--allow-outside"], f"{path}:2: column 'session'",
                       "is a character device")


def test_a_session_outside_the_labels_folder_is_read_only_when_allowed_and_never_echoed(
    tmp_path, capsys
):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:*:20228:0:99999:7:::\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    path = labels_file(inner, "../secret.txt,1,2,rounded")
    one_line_error(capsys, ["train", str(path), "-o", str(inner / "m.skops")], "--allow-outside")
    err = one_line_error(capsys, ["train", str(path), "-o", str(inner / "m.skops"),
                                  "--allow-outside", "--quiet"], "unknown file format")
    assert "root:" not in err and "20228" not in err


def test_label_names_and_unknown_labels_are_refused_with_the_line(tmp_path, capsys):
    session = tmp_path / "s.csv"
    session.write_text("")
    for label, words in (('=HYPERLINK("http://x")', ["starts with '='", ":2: column 'label'"]),
                         ("-1+2", ["starts with '-'"]), ("x" * 41, ["41 characters"])):
        path = labels_file(tmp_path, f"s.csv,1,2,{label}")
        one_line_error(capsys, ["train", str(path), "-o", str(tmp_path / "m.skops")], *words)
    path = labels_file(tmp_path, 's.csv,1,2,bent\x1bfine')  # an escape sequence
    one_line_error(capsys, ["evaluate", str(path)], "control characters")
    path = labels_file(tmp_path, "s.csv,1,2,rounded", "s.csv,2,3,weird", "s.csv,3,4,ROUNDED")
    one_line_error(capsys, ["train", str(path), "-o", str(tmp_path / "m.skops")],
                   f"{path}:3: column 'label': unknown label 'weird'", "--negative good,weird")
    frame = pd.read_csv(path).assign(labels_file=str(path), line=[2, 3, 4])
    with pytest.raises(InputError, match=r":4: column 'label': unknown label 'ROUNDED'.*"
                                         r"case-sensitive, did you mean 'rounded'"):
        targets(frame, "rounded", ["good", "weird"])
    assert targets(frame, "rounded", ["weird", "ROUNDED"]).tolist() == [1, 0, 0]
    one_line_error(capsys, ["train", str(path), "-o", str(tmp_path / "m.skops"), "--positive",
                            "@SUM(A1)"], "--positive: label '@SUM(A1)' starts with '@'")


# --------------------------------------------------------------------------- crafted model files


def crafted(tmp_path: Path, change=None, members: dict[str, bytes] | None = None) -> Path:
    """The shipped model with its embedded manifest changed by ``change(manifest)`` and
    ``members`` added or replaced."""
    source = zipfile.ZipFile(default_model_path())
    manifest = json.loads(source.read(MANIFEST_MEMBER))
    if change is not None:
        change(manifest)
    replaced = {MANIFEST_MEMBER: json.dumps(manifest).encode(), **(members or {})}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename not in replaced:
                archive.writestr(info, source.read(info))
        for name, data in replaced.items():
            archive.writestr(name, data)
    path = tmp_path / "crafted.skops"
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize(("key", "value", "words"), [
    ("versions", "1.0", "'versions' must be an object of version strings"),
    ("cv", "great", "'cv' must be an object"),
    ("sampling_rate_hz", "fast", "'sampling_rate_hz' must be null or an object {min, max}"),
    ("sampling_rate_hz", {"min": 0, "max": 1e400}, "rates in Hz"),
    ("threshold", "0.5", "'threshold' must be a finite number"),
    ("positive_label", '=HYPERLINK("http://x")', "starts with '='"),
    ("negative_label", "good\nrounded", "control characters"),
    ("labels", ["good", "+cmd"], "'labels' must be a list of labels"),
    ("feature_names", "reversed", "'feature_names' must be the 114 names this imu computes"),
    ("feature_names", None, "'feature_names' must be the 114 names"),
])
def test_a_crafted_manifest_is_refused_in_one_line(tmp_path, capsys, key, value, words):
    def change(manifest):
        manifest[key] = manifest[key][::-1] if value == "reversed" else value

    path = crafted(tmp_path, change)
    with pytest.raises(ModelError, match=re.escape(words)):
        load_model(path)
    one_line_error(capsys, ["label", str(tmp_path / "none.csv"), "-o", str(tmp_path / "l.csv"),
                            "--model", str(path)], str(path), words)


def test_a_zip_bomb_model_is_refused_before_its_member_is_read(tmp_path):
    bomb = crafted(tmp_path, members={"schema.json": b" " * (64 << 20)})  # 64 MiB of spaces
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(ModelError, match="'schema.json' expands to 64 MiB"):
            load_model(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20  # the archive's ~0.9 MB, never the 64 MiB member


# --------------------------------------------------------------------------- exit statuses


def test_a_closed_stdout_ends_quietly_with_status_0(session_csv):
    process = subprocess.Popen([*IMU, "analyze", str(session_csv), "--no-model"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # `| head -0`: the reader is gone before the first line
    err = process.stderr.read().decode()
    assert process.wait(60) == 0 and err == ""


def test_no_writable_numba_cache_falls_back_with_a_one_line_note(tmp_path):
    """A read-only install run by a user without a home folder: every ``__pycache__`` is a
    file here, and the user's cache folder lies under a file."""
    package = tmp_path / "imu"
    shutil.copytree(Path(__file__).resolve().parent.parent / "imu", package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for folder in [package, *package.rglob("*")]:
        if folder.is_dir():
            (folder / "__pycache__").write_text("")
    (tmp_path / "file").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1",
           "XDG_CACHE_HOME": str(tmp_path / "file" / "cache")}
    env.pop("NUMBA_CACHE_DIR", None)
    done = subprocess.run([sys.executable, "-c", "import imu.pipeline.fusion"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("imu: note: no writable folder for numba's cache")
    assert len(done.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- input checks


def test_a_wrong_header_is_named_by_its_line_not_by_the_first_metadata_line(
    tmp_path, session_csv, capsys
):
    lines = session_csv.read_text().splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if line.startswith("time_s"))
    lines[header] = "t,ax,ay,az,gx,gy,gz\n"
    path = tmp_path / "renamed.csv"
    path.write_text("".join(lines))
    err = one_line_error(capsys, ["analyze", str(path), "--no-model"],
                         f"{path}:{header + 1}: unknown file format: the header after "
                         f"{header} '#' lines matches none of")
    assert "synthetic" not in err  # the metadata line 1 was quoted before


def test_convert_writes_through_a_device_and_follows_a_link(tmp_path, session_csv):
    device = char_device(tmp_path)
    assert main(["convert", str(session_csv), "-o", str(device), "--force"]) == 0  # 17.1
    assert stat.S_ISCHR(os.stat(device).st_mode)
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main(["convert", str(session_csv), "-o", str(link), "--force"]) == 0
    assert link.is_symlink() and target.read_text().startswith("# ")
    assert leftovers(tmp_path) == []


def test_the_recorder_writes_through_a_fifo_and_replaces_a_file_only_whole(tmp_path, recording):
    from imu.session import SessionWriter

    fifo = tmp_path / "live.csv"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    with SessionWriter(fifo, {"device": "test"}, sync_interval_s=0.0) as writer:
        writer.append(recording.samples()[:10])  # fsync of a pipe raised EINVAL
    reader.join(10)
    assert received[0].count("\n") == 1 + 1 + 10
    old = tmp_path / "old.csv"
    old.write_text("# an earlier recording\n")
    link = tmp_path / "rec.csv"
    link.symlink_to(old)
    with SessionWriter(link, {"device": "test"}, force=True) as writer:
        writer.append(recording.samples()[:10])
    assert link.is_symlink() and old.read_text().startswith("# device: test\n")
    assert leftovers(tmp_path) == []


def test_a_metadata_line_with_an_empty_key_converts(tmp_path, session_csv):
    path = tmp_path / "keys.csv"
    path.write_text("#:\n# : value\n" + session_csv.read_text())
    assert main(["convert", str(path), "-o", str(tmp_path / "out.csv")]) == 0  # 17.10
    assert main(["analyze", str(tmp_path / "out.csv"), "--no-model", "--json"]) == 0


def test_a_cut_off_gzip_loads_its_start_with_a_warning_saying_so(tmp_path, session_csv, capsys):
    """docs/session-format.md: corrupt gzip data is an error, gzip data cut off (an
    interrupted copy) loads what was readable, with a warning naming the cause."""
    import gzip

    data = gzip.compress(session_csv.read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 3])
    assert main(["analyze", str(path), "--no-model", "--json"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert warnings[0].startswith(f"{path}: the gzip data is cut off"), warnings
    path.write_bytes(data[:200] + bytes(range(256)) * 4)
    one_line_error(capsys, ["analyze", str(path), "--no-model"], str(path), "damaged gzip file")


def test_an_absurd_value_is_out_of_the_sensors_range(tmp_path, session_csv, capsys):
    frame = pd.read_csv(session_csv, comment="#")
    frame.loc[50, "gyr_y"] = 1e308  # in the still period: silently lost every rep before
    path = tmp_path / "huge.csv"
    frame.to_csv(path, index=False, float_format="%.9g")
    err = one_line_error(capsys, ["analyze", str(path), "--no-model"], f"{path}:52",
                         "column 'gyr_y'", "1e+308")
    assert "RuntimeWarning" not in err


@pytest.mark.parametrize("rate", ["banana", "0", "inf", "-5"])
def test_a_garbage_sampling_rate_is_ignored_with_a_warning(tmp_path, session_csv, capsys, rate):
    text = session_csv.read_text().replace("# sampling_rate_hz: 100", f"# sampling_rate_hz: {rate}")
    path = tmp_path / "rate.csv"
    path.write_text(text)
    assert main(["analyze", str(path), "--no-model", "--json"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert any(f"sampling_rate_hz {rate!r}" in w and "not a positive number" in w
               for w in warnings), warnings


def test_a_gyroscope_57_times_too_fast_is_refused_without_a_unit_option(
    tmp_path, session_csv, capsys
):
    frame = pd.read_csv(session_csv, comment="#")
    frame[["gyr_x", "gyr_y", "gyr_z"]] *= 180 / np.pi  # deg/s converted as if rad/s
    path = tmp_path / "twice.csv"
    frame.to_csv(path, index=False, float_format="%.9g")
    one_line_error(capsys, ["analyze", str(path), "--no-model"], "column 'gyr_x'",
                   "faster than the accelerometer tilts")
