"""SPAKE2 against the RFC 9382 P-256 vectors, and the refusal of bad shares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sotto import spake2
from sotto.errors import InvalidShare, UsageError

RFC = json.loads((Path(__file__).parent / "vectors" / "rfc9382-p256.json").read_text("utf-8"))


def _hex_int(value: str) -> int:
    return int(value, 16)


def test_m_and_n_are_the_rfc_constants() -> None:
    """The decompressed M and N re-compress to the RFC's constants."""
    for point, compressed in ((spake2.M, RFC["M"]), (spake2.N, RFC["N"])):
        encoded = spake2.encode_point(point)
        assert bytes([2 + encoded[-1] % 2]) + encoded[1:33] == bytes.fromhex(compressed)


@pytest.mark.parametrize("vector", RFC["vectors"], ids=lambda v: f"{v['A']!r}-{v['B']!r}")
def test_rfc9382_vector(vector: dict[str, Any]) -> None:
    """Each RFC 9382 P-256 vector is reproduced by both roles, every intermediate value."""
    w, x, y = _hex_int(vector["w"]), _hex_int(vector["x"]), _hex_int(vector["y"])
    p_a, p_b = spake2.start("A", w, x), spake2.start("B", w, y)
    assert p_a.hex() == vector["pA"]
    assert p_b.hex() == vector["pB"]
    id_a, id_b = vector["A"].encode(), vector["B"].encode()
    aad = bytes.fromhex(RFC["aad"])
    for role, secret in (("A", x), ("B", y)):
        keys = spake2.finish(role, w, secret, id_a, id_b, p_a, p_b, aad)
        assert keys.k_point.hex() == vector["K"]
        assert keys.transcript.hex() == vector["TT"]
        assert (keys.ke + keys.ka).hex() == vector["HashTT"]
        assert keys.ke.hex() == vector["Ke"]
        assert keys.ka.hex() == vector["Ka"]
        assert keys.kc_a.hex() == vector["KcA"]
        assert keys.kc_b.hex() == vector["KcB"]
        assert keys.c_a.hex() == vector["cA"]
        assert keys.c_b.hex() == vector["cB"]


@pytest.mark.parametrize("case", RFC["invalid_shares"], ids=lambda c: c["why"][:40])
def test_rfc_file_invalid_share_refused(case: dict[str, str]) -> None:
    """Every share listed as invalid in the shared RFC file is refused by B."""
    w = _hex_int(case.get("w", "01"))
    y = 0x1234567
    own = spake2.start("B", w, y)
    with pytest.raises(InvalidShare):
        spake2.finish("B", w, y, b"A", b"B", bytes.fromhex(case["share"]), own, b"")


def test_wrong_password_gives_mismatched_confirmations() -> None:
    """Two sides with different w derive different keys, so confirmation fails both ways."""
    w_a, w_b, x, y = 11, 12, 1001, 2002
    p_a, p_b = spake2.start("A", w_a, x), spake2.start("B", w_b, y)
    ka = spake2.finish("A", w_a, x, b"a", b"b", p_a, p_b, b"room")
    kb = spake2.finish("B", w_b, y, b"a", b"b", p_a, p_b, b"room")
    assert not ka.check_peer_confirmation("A", kb.my_confirmation("B"))
    assert not kb.check_peer_confirmation("B", ka.my_confirmation("A"))
    assert ka.ke != kb.ke


def test_secret_scalar_range_checked() -> None:
    """A zero or out-of-range secret scalar is local misuse, not a share."""
    with pytest.raises(UsageError):
        spake2.start("A", 5, 0)
    with pytest.raises(UsageError):
        spake2.scalar_from_bytes(b"\x01" * 39)
