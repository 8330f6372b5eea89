#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpora of the fuzz targets into tests/data/fuzz/<target>/.

Standard library only: protobuf, snappy (literal-only blocks, which every
decoder accepts) and zstd (one raw block) are encoded by hand here. The
seeds are small valid inputs plus a few named hostile ones; the fuzzer
finds the rest. Run from anywhere: python3 tests/fuzz/gen_corpus.py
"""
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "fuzz")
T0 = 1700000000000
STALE = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]


def uvarint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field_bytes(num, data):
    return uvarint(num << 3 | 2) + uvarint(len(data)) + data


def field_varint(num, v):
    return uvarint(num << 3) + uvarint(v)


def field_double(num, v):
    return uvarint(num << 3 | 1) + struct.pack("<d", v)


def label(name, value):
    return field_bytes(1, name) + field_bytes(2, value)


def sample(t, v):
    # Always send the value, even 0/-0 (protoc-c and gogo omit it).
    return field_double(1, v) + field_varint(2, t)


def series(labels, samples, exemplars=b"", histograms=b""):
    out = b"".join(field_bytes(1, label(n, v)) for n, v in labels)
    out += b"".join(field_bytes(2, sample(t, v)) for t, v in samples)
    return out + exemplars + histograms


def write_request(ts, metadata=()):
    return b"".join(field_bytes(1, s) for s in ts) + b"".join(field_bytes(3, m) for m in metadata)


def snappy(data):
    """Snappy block format with literal elements only."""
    out = bytearray(uvarint(len(data)))
    for i in range(0, len(data), 60):
        chunk = data[i:i + 60]
        out.append((len(chunk) - 1) << 2)
        out += chunk
    return bytes(out)


def zstd_raw(data):
    """A zstd frame of one raw block, content size declared (< 256 bytes)."""
    assert len(data) < 256
    block = (len(data) << 3) | 1  # last block, type raw
    return b"\x28\xb5\x2f\xfd" + bytes([0x20, len(data)]) + struct.pack("<I", block)[:3] + data


def remote_write_seeds():
    up = series([(b"__name__", b"up"), (b"job", b"node"), (b"instance", b"h:9100")],
                [(T0 - 15000, 1.0), (T0, 0.0)])
    temp = series([(b"__name__", b"temp_celsius"), (b"zone", b"a")], [(T0, 21.5)])
    exemplar = field_bytes(3, field_bytes(1, label(b"trace_id", b"abc")) + field_double(2, 1.5) +
                           field_varint(3, T0))
    histogram = field_bytes(4, field_varint(1, 3) + field_double(3, 4.5) + uvarint(4 << 3) + uvarint(6) +
                            field_varint(15, T0))
    meta = field_varint(1, 1) + field_bytes(2, b"http_requests_total") + field_bytes(4, b"Requests.") + \
        field_bytes(5, b"")
    valid = write_request([up, temp])
    return {
        "valid.pb": valid,
        "valid.snappy": snappy(valid),
        "special_values.pb": write_request([series([(b"__name__", b"v")], [
            (T0 - 3000, STALE), (T0 - 2000, -0.0), (T0 - 1000, float("inf")), (T0, float("-inf")),
            (T0 + 1, float("nan"))])]),
        "exemplar_histogram_metadata.pb": write_request([
            series([(b"__name__", b"c_total")], [(T0, 5.0)], exemplars=exemplar),
            series([(b"__name__", b"h")], [], histograms=histogram)], [meta]),
        "bad_labels.pb": write_request([
            series([(b"job", b"x"), (b"__name__", b"m"), (b"job", b"y")], [(T0, 1.0)]),
            series([(b"__name__", b"1abc"), (b"a-b", b"1")], [(T0, 1.0)]),
            series([(b"__name__", b"m"), (b"v", b"a\x00b\xff")], [(T0, 1.0)]),
            series([(b"job", b"nameless"), (b"e", b"")], [(T0, 1.0)])]),
        "extreme_times.pb": write_request([
            series([(b"__name__", b"t_min")], [(-(1 << 63), 1.0), (-(1 << 63) + 1, 2.0)]),
            series([(b"__name__", b"t_max")], [((1 << 63) - 1, 1.0), (T0, 2.0), (T0, 3.0)])]),
        "duplicates.snappy": snappy(write_request([
            series([(b"__name__", b"d")], [(T0, 1.0), (T0, 1.0), (T0, 2.0), (T0 - 7200000, 3.0)])])),
        "empty": b"",
        "empty_request.snappy": b"\x00",
        "truncated.pb": valid[:len(valid) // 2],
        "huge_length.pb": b"\x0a\xff\xff\xff\xff\x0f",
        "snappy_claims_4g": b"\xff\xff\xff\xff\x0f\x00",
    }


def wal_record_seeds():
    def count5(n):
        return bytes([((n >> (7 * i)) & 0x7F) | 0x80 for i in range(4)] + [(n >> 28) & 0x7F])

    def zigzag(v):
        return (v << 1) ^ (v >> 63)

    def samples_rec(entries):
        out = bytearray([1]) + count5(len(entries))
        prev = 0
        for sid, t, v in entries:
            out += uvarint(sid) + uvarint(zigzag(t - prev) & ((1 << 64) - 1)) + struct.pack("<d", v)
            prev = t
        return bytes(out)

    def labels_canon(ls):
        return b"".join(uvarint(len(n)) + n + uvarint(len(v)) + v for n, v in ls)

    def series_rec(entries):
        out = bytearray([2]) + count5(len(entries))
        for sid, ls in entries:
            enc = labels_canon(ls)
            out += uvarint(sid) + uvarint(len(enc)) + enc
        return bytes(out)

    def meta_rec(mtype, fam, hlp, unit):
        return bytes([3]) + uvarint(mtype) + b"".join(uvarint(len(s)) + s for s in (fam, hlp, unit))

    samples = samples_rec([(0, T0, 1.0), (1, T0 + 15000, STALE), (0, T0 - 5, -0.0)])
    ser = series_rec([(0, [(b"__name__", b"up"), (b"job", b"node")]), (1, [(b"__name__", b"x")])])
    return {
        "samples": samples,
        "series": ser,
        "meta": meta_rec(1, b"http_requests_total", b"Requests.", b""),
        "zstd_samples": bytes([9]) + zstd_raw(samples),
        "zstd_series": bytes([9]) + zstd_raw(ser),
        "empty_samples": bytes([1]) + count5(0),
        "count_too_big": bytes([1]) + count5(1000) + b"\x00\x00",
        "truncated_samples": samples[:-3],
        "series_len_past_end": bytes([2]) + count5(1) + b"\x00\xff\xff\xff\xff\x0f",
        "unknown_type": bytes([7]) + count5(1) + b"\x00",
        "zstd_nested": bytes([9]) + zstd_raw(bytes([9]) + samples),
        "zstd_garbage": bytes([9]) + b"\x28\xb5\x2f\xfd\x00",
    }


def main():
    for target, seeds in (("fuzz_remote_write", remote_write_seeds()), ("fuzz_wal_record", wal_record_seeds())):
        d = os.path.join(ROOT, target)
        os.makedirs(d, exist_ok=True)
        assert len(seeds) < 20
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (d, len(seeds)), file=sys.stderr)


if __name__ == "__main__":
    main()
