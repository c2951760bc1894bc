"""OpenIMU Python codec: shared vectors, the spec page's worked example, round trips, fuzzing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imu.ble import openimu_codec as oc

ROOT = Path(__file__).resolve().parents[1]
VECTORS = json.loads((ROOT / "tests" / "vectors" / "openimu_vectors.json").read_text())
SPEC_PAGE = ROOT / "firmware_notes" / "open-profile.md"


def _ids(rows: list[dict]) -> list[str]:
    return [row["name"] for row in rows]


@pytest.mark.parametrize("vector", VECTORS["packets"], ids=_ids(VECTORS["packets"]))
def test_vector_decodes_to_its_fields_and_encodes_back(vector: dict) -> None:
    fields = vector["fields"]
    packet = oc.decode_packet(bytes.fromhex(vector["hex"]))
    assert packet.version == oc.FORMAT_VERSION
    assert packet.sequence == fields["sequence"]
    assert packet.device_time_us == fields["device_time_us"]
    assert packet.acc_range_code == fields["acc_range_code"]
    assert packet.gyr_range_code == fields["gyr_range_code"]
    assert packet.sampling_rate_hz == fields["sampling_rate_hz"]
    assert packet.device_overrun == fields["device_overrun"]
    assert packet.raw.dtype == np.int16
    np.testing.assert_array_equal(packet.raw, np.array(fields["raw"]))
    assert packet.count == len(fields["raw"])
    assert oc.encode_packet(
        np.array(fields["raw"]), **{k: v for k, v in fields.items() if k != "raw"}
    ) == bytes.fromhex(vector["hex"])


def test_hand_vector_in_si_units() -> None:
    vector = VECTORS["packets"][0]
    assert vector["name"] == "hand"
    packet = oc.decode_packet(bytes.fromhex(vector["hex"]))
    np.testing.assert_allclose(packet.acc_m_s2, vector["si"]["acc_m_s2"], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(packet.gyr_deg_s, vector["si"]["gyr_deg_s"])
    # 104 Hz: the second sample is 1/104 s after device_time_us
    np.testing.assert_allclose(packet.offsets_s, [0.0, 1 / 104])


def test_spec_page_worked_example_is_the_hand_vector() -> None:
    """The literal bytes printed in open-profile.md are the tested hand vector."""
    block = re.search(
        r"```text\n(01 02 34 12[0-9a-f \n]+)```", SPEC_PAGE.read_text(encoding="utf-8")
    )
    assert block is not None, "worked example block missing from open-profile.md"
    assert bytes.fromhex(block.group(1)) == bytes.fromhex(VECTORS["packets"][0]["hex"])


def test_spec_page_names_the_codec_uuids() -> None:
    spec = SPEC_PAGE.read_text(encoding="utf-8")
    for uuid in (oc.SERVICE_UUID, oc.DATA_UUID, oc.CONFIG_UUID, oc.INFO_UUID):
        assert uuid in spec


@pytest.mark.parametrize("vector", VECTORS["invalid_packets"], ids=_ids(VECTORS["invalid_packets"]))
def test_invalid_packets_raise_codec_error(vector: dict) -> None:
    with pytest.raises(oc.OpenImuError):
        oc.decode_packet(bytes.fromhex(vector["hex"]))


@pytest.mark.parametrize("vector", VECTORS["configs"], ids=_ids(VECTORS["configs"]))
def test_config_vectors_round_trip(vector: dict) -> None:
    config = oc.Config(**vector["fields"])
    assert oc.encode_config(config) == bytes.fromhex(vector["hex"])
    assert oc.decode_config(bytes.fromhex(vector["hex"])) == config


@pytest.mark.parametrize("vector", VECTORS["invalid_configs"], ids=_ids(VECTORS["invalid_configs"]))
def test_invalid_configs_raise_codec_error(vector: dict) -> None:
    with pytest.raises(oc.OpenImuError):
        oc.decode_config(bytes.fromhex(vector["hex"]))


@pytest.mark.parametrize("row", VECTORS["conversions"], ids=lambda r: r["note"])
def test_si_to_counts_conversions(row: dict) -> None:
    acc_m_s2 = np.array([row["acc_g"]]) * oc.STANDARD_GRAVITY
    counts = oc.counts_from_si(
        acc_m_s2, np.array([row["gyr_deg_s"]]), row["acc_range_code"], row["gyr_range_code"]
    )
    np.testing.assert_array_equal(counts, [row["counts"]])


@pytest.mark.parametrize(("mtu", "n"), VECTORS["mtu"])
def test_samples_per_notification(mtu: int, n: int) -> None:
    if n == 0:
        with pytest.raises(oc.OpenImuError, match="cannot carry one sample"):
            oc.max_samples_per_notification(mtu)
    else:
        assert oc.max_samples_per_notification(mtu) == n
        assert oc.HEADER_SIZE + n * oc.SAMPLE_SIZE <= min(mtu - 3, oc.MAX_ATTRIBUTE_SIZE)


def _packet(sequence: int, count: int, time_us: int = 0) -> oc.Packet:
    data = oc.encode_packet(
        np.zeros((count, 6), dtype=np.int16),
        sequence=sequence,
        device_time_us=time_us,
        acc_range_code=0,
        gyr_range_code=0,
        sampling_rate_hz=100.0,
    )
    return oc.decode_packet(data)


def test_lost_samples_and_elapsed_time_across_wraparound() -> None:
    first = _packet(65530, 5, time_us=2**32 - 1000)
    assert oc.lost_samples(first, _packet(65535, 5)) == 0
    assert oc.lost_samples(first, _packet(3, 5)) == 4  # 65535, 0, 1, 2 lost
    assert oc.elapsed_us(first, _packet(3, 5, time_us=500)) == 1500


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequence": 65536}, "sequence"),
        ({"device_time_us": -1}, "device_time_us"),
        ({"acc_range_code": 4}, "accelerometer range code"),
        ({"gyr_range_code": 5}, "gyroscope range code"),
        ({"sampling_rate_hz": 104.05}, "multiple of 0.1 Hz"),
        ({"sampling_rate_hz": 0.0}, "multiple of 0.1 Hz"),
    ],
)
def test_encode_rejects_bad_fields(kwargs: dict, message: str) -> None:
    fields = {
        "sequence": 0,
        "device_time_us": 0,
        "acc_range_code": 0,
        "gyr_range_code": 0,
        "sampling_rate_hz": 100.0,
        **kwargs,
    }
    with pytest.raises(oc.OpenImuError, match=message):
        oc.encode_packet(np.zeros((1, 6), dtype=np.int16), **fields)


@pytest.mark.parametrize(
    "raw",
    [
        np.zeros((0, 6), int),
        np.zeros((42, 6), int),
        np.zeros((1, 5), int),
        np.zeros((1, 6)),
        np.array([[0, 0, 0, 0, 0, 32768]]),
    ],
    ids=["empty", "too-many", "five-axes", "float", "overflow"],
)
def test_encode_rejects_bad_samples(raw: np.ndarray) -> None:
    with pytest.raises(oc.OpenImuError):
        oc.encode_packet(
            raw,
            sequence=0,
            device_time_us=0,
            acc_range_code=0,
            gyr_range_code=0,
            sampling_rate_hz=100.0,
        )


def test_counts_from_si_rejects_non_finite() -> None:
    with pytest.raises(oc.OpenImuError, match="finite"):
        oc.counts_from_si(np.array([[np.nan, 0, 0]]), np.zeros((1, 3)), 0, 0)


def test_si_round_trip_error_is_at_most_half_a_count() -> None:
    rng = np.random.default_rng(7)
    acc = rng.uniform(-7.9, 7.9, (500, 3)) * oc.STANDARD_GRAVITY
    gyr = rng.uniform(-1999, 1999, (500, 3))
    counts = oc.counts_from_si(acc, gyr, 2, 4)
    packet = oc.decode_packet(
        oc.encode_packet(
            counts[:41],
            sequence=0,
            device_time_us=0,
            acc_range_code=2,
            gyr_range_code=4,
            sampling_rate_hz=200.0,
        )
    )
    half_acc = 0.5 * oc.acc_count_g(2) * oc.STANDARD_GRAVITY
    assert np.abs(packet.acc_m_s2 - acc[:41]).max() <= half_acc + 1e-12
    assert np.abs(packet.gyr_deg_s - gyr[:41]).max() <= 0.5 * oc.gyr_count_deg_s(4) + 1e-12


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe", b"profile=openimu/1;board", b"profile=a;profile=b", b"profile=openimu/1"],
    ids=["not-utf8", "no-equals", "repeated", "missing-keys"],
)
def test_decode_info_rejects_bad_descriptions(data: bytes) -> None:
    with pytest.raises(oc.OpenImuError):
        oc.decode_info(data)


def test_codec_error_is_a_value_error() -> None:
    assert issubclass(oc.OpenImuError, ValueError)


valid_fields = st.fixed_dictionaries(
    {
        # (n, 6) int16 counts, every bit pattern possible, drawn as raw bytes (fast)
        "raw": st.integers(1, oc.MAX_SAMPLES)
        .flatmap(lambda n: st.binary(min_size=12 * n, max_size=12 * n))
        .map(lambda b: np.frombuffer(b, dtype="<i2").reshape(-1, 6).astype(np.int64)),
        "sequence": st.integers(0, 2**16 - 1),
        "device_time_us": st.integers(0, 2**32 - 1),
        "acc_range_code": st.integers(0, 3),
        "gyr_range_code": st.integers(0, 4),
        "sampling_rate_hz": st.integers(1, 2**16 - 1).map(lambda d: d / 10),
        "device_overrun": st.booleans(),
    }
)


@settings(max_examples=200, deadline=None)
@given(valid_fields)
def test_round_trip_any_valid_packet(fields: dict) -> None:
    raw = np.array(fields.pop("raw"))
    packet = oc.decode_packet(oc.encode_packet(raw, **fields))
    np.testing.assert_array_equal(packet.raw, raw)
    for key, value in fields.items():
        assert getattr(packet, key) == value


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=600))
def test_decoders_raise_only_codec_error_on_arbitrary_bytes(data: bytes) -> None:
    for decode in (oc.decode_packet, oc.decode_config, oc.decode_info):
        try:
            decode(data)
        except oc.OpenImuError:
            pass


@settings(max_examples=300, deadline=None)
@given(valid_fields, st.data())
def test_decoder_on_mutated_valid_packets(fields: dict, data: st.DataObject) -> None:
    """Flip one byte or cut a valid packet: result is a packet or OpenImuError, never else."""
    raw = np.array(fields.pop("raw"))
    packet = bytearray(oc.encode_packet(raw, **fields))
    i = data.draw(st.integers(0, len(packet) - 1))
    packet[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(packet)))
    try:
        decoded = oc.decode_packet(bytes(packet[:cut]))
    except oc.OpenImuError:
        return
    assert decoded.count * oc.SAMPLE_SIZE + oc.HEADER_SIZE == cut
