"""Write the project's own test vectors (tests/vectors/*.json) from a seeded random stream.

Run `python -m tests.vectors.generate` from the repository root. The output is fully
determined by the seeds below, so running it twice gives identical files; the test
suite checks that, and the JS core reproduces every value from the files. The RFC 9382
file (rfc9382-p256.json) is copied from the RFC, never written here.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from sotto import spake2
from sotto.broadcast import message_aad, seal_broadcast, text_plaintext
from sotto.constants import K_PAKE1, K_PAKE2, K_PAKE3, K_SENDER_KEY, PBKDF2_ITERATIONS
from sotto.encoding import b64decode, b64encode, dumps
from sotto.fingerprint import fingerprint, fingerprint_bytes
from sotto.padding import pad
from sotto.pairwise import direct_aad, pair_key, seal_direct
from sotto.password import password_scalar, salt, stretch
from sotto.ratchet import message_key, next_chain_key
from sotto.roomid import norm, room_id
from sotto.signing import SigningKey

HERE = Path(__file__).resolve().parent

RNG_DESCRIPTION = (
    "Random inputs come from SeededRandom(label): the byte stream SHA-256(label || u32(0)) "
    "|| SHA-256(label || u32(1)) || ..., read front to back (label is ASCII). Every value "
    "drawn from it is also written out, so a reader need not re-run the stream."
)
JSON_DESCRIPTION = (
    "Files are written as JSON.stringify(obj, null, 1) + '\\n' (Python json.dumps(indent=1, "
    "ensure_ascii=False)). Byte strings are lowercase hex in fields ending _hex and strict "
    "unpadded base64url elsewhere when the protocol sends them that way (fields named as in "
    "docs/protocol.md). Bodies are compact JSON (JSON.stringify(obj) with the key order shown)."
)


class SeededRandom:
    """A deterministic byte stream for tests: SHA-256(label || u32 counter) blocks."""

    def __init__(self, label: str) -> None:
        """Start the stream for a label."""
        self._label = label.encode("ascii")
        self._counter = 0
        self._buffer = b""

    def __call__(self, n: int) -> bytes:
        """The next n bytes of the stream."""
        while len(self._buffer) < n:
            block = hashlib.sha256(self._label + self._counter.to_bytes(4, "big")).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def draw_scalar(rng: SeededRandom) -> tuple[bytes, int]:
    """A SPAKE2 secret scalar as the protocol draws it: 40 bytes mod n, redrawn if zero."""
    while True:
        draw = rng(40)
        scalar = spake2.scalar_from_bytes(draw)
        if scalar:
            return draw, scalar


def member_id(rng: SeededRandom) -> str:
    """A member id as the server makes one: 16 random bytes in base64url."""
    return b64encode(rng(16))


def _file(description: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "rng": RNG_DESCRIPTION, "format": JSON_DESCRIPTION, **body}


def vectors_b64() -> dict[str, Any]:
    """Strict base64url: texts that decode (with their bytes) and texts that must be refused."""
    valid = [b"", b"\x00", b"\xff\xfe", b"abc", b"\xfb\xff\xbf", bytes(range(20))]
    invalid = ["=", "AA==", "AA=", "+w", "/w", "A", "AAAAA", "A A", "AB", "AAB", " AA", "AA\n", "é"]
    return _file(
        "Strict base64url (section 2.1). valid: {text, bytes_hex}: decoding text gives bytes and "
        "encoding bytes gives text. invalid: texts a receiver refuses: padding '=', the standard "
        "alphabet's '+' and '/', white space, non-ASCII, a length of 1 mod 4, and non-canonical "
        "trailing bits ('AB' and 'AAB' decode to bytes that re-encode differently).",
        {
            "valid": [{"text": b64encode(v), "bytes_hex": v.hex()} for v in valid],
            "invalid": invalid,
        },
    )


ROOM_NAMES = [
    "Kitchen",
    "  kitchen  ",
    "the\tblue\u00a0room",
    "the  blue \n room",
    "Straße",
    "STRASSE",
    "ΣΑΣ",
    "σας",
    "\uff2b\uff49\uff54\uff43\uff48\uff45\uff4e",
    "ℌello",
    "ﬁle №5",
    "caf\u00e9",
    "cafe\u0301",
    "\u3000東京\u2003部屋\u3000",
    "x\u200ay\u2028z\u205f",
]


def vectors_room_id() -> dict[str, Any]:
    """Room-name normalisation and room ids, plus names that normalise to nothing."""
    return _file(
        "Room ids (section 3). cases: {name, norm, room_id}: norm(name) as text and "
        "room_id = b64(SHA-256('sotto/1 room' || 0x00 || UTF-8(norm))[0:16]). empty: names "
        "whose norm is the empty string, which are not room names.",
        {
            "cases": [{"name": n, "norm": norm(n), "room_id": room_id(n)} for n in ROOM_NAMES],
            "empty": ["", "   ", "\t\u00a0\u3000\n"],
        },
    )


PASSWORDS = [
    ("correct horse", "Kitchen"),
    ("Correct Horse ", "Kitchen"),
    ("\uff50\uff41\uff53\uff53", "ΣΑΣ"),
    ("pass", "ΣΑΣ"),
]


def vectors_password() -> dict[str, Any]:
    """The password scalar w for a few passwords and rooms."""
    cases = []
    for password, room in PASSWORDS:
        rid = room_id(room)
        raw = stretch(password, rid)
        cases.append(
            {
                "password": password,
                "room_id": rid,
                "salt_hex": salt(rid).hex(),
                "pbkdf2_hex": raw.hex(),
                "w_hex": password_scalar(password, rid).to_bytes(32, "big").hex(),
            }
        )
    return _file(
        "Password scalar (section 2 and 5). cases: {password, room_id, salt_hex, pbkdf2_hex, "
        "w_hex}: salt = 'sotto/1 spake2' || 0x00 || room_id; pbkdf2 = PBKDF2-HMAC-SHA256("
        f"UTF-8(NFKC(password)), salt, {PBKDF2_ITERATIONS} iterations, 40 bytes); w = pbkdf2 as "
        "a big-endian integer mod the P-256 order, written as 32 bytes big-endian. The third "
        "password is full-width and NFKC-equal to the fourth; the second differs from the first "
        "by case and a trailing space (neither folded nor trimmed).",
        {"iterations": PBKDF2_ITERATIONS, "cases": cases},
    )


def _k_identity_share(role: spake2.Role, w: int) -> bytes:
    """A valid point that makes the receiver's K the identity: w*N sent to A, w*M to B."""
    mask = spake2.N if role == "A" else spake2.M
    return spake2.encode_point(mask * w)


def vectors_invalid_shares() -> dict[str, Any]:
    """Shares each role must refuse, with the scalars it uses."""
    rng = SeededRandom("invalid-shares")
    w = password_scalar("pass", room_id("ΣΑΣ"))
    _, secret = draw_scalar(rng)
    g = spake2.encode_point(spake2.G)
    gx, gy = g[1:33], g[33:]
    prime = 2**256 - 2**224 + 2**192 + 2**96 - 1
    p = prime.to_bytes(32, "big")
    curve_b = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
    # (0, sqrt(b)) is on P-256, so x = p encodes it unreduced.
    y_for_x0 = pow(curve_b, (prime + 1) // 4, prime).to_bytes(32, "big")
    assert pow(int.from_bytes(y_for_x0, "big"), 2, prime) == curve_b
    off_curve = b"\x04" + gx + (int.from_bytes(gy, "big") + 1).to_bytes(32, "big")
    shares = [
        ("identity 04 || 0^64", b"\x04" + bytes(64)),
        ("off-curve: G with y + 1", off_curve),
        ("compressed G (33 bytes, 0x02/0x03 prefix)", bytes([2 + gy[-1] % 2]) + gx),
        ("64 bytes: G without its 0x04 prefix", gx + gy),
        ("66 bytes: G and one extra byte", g + b"\x00"),
        ("1 byte 0x00 (SEC1 identity)", b"\x00"),
        ("empty", b""),
        ("hybrid prefix 0x06/0x07 with G", bytes([6 + gy[-1] % 2]) + gx + gy),
        ("x = p (x = 0 not reduced)", b"\x04" + p + y_for_x0),
        ("y = p (coordinate not reduced)", b"\x04" + gx + p),
    ]
    cases: list[dict[str, str]] = []
    for role in ("A", "B"):
        for why, share in shares:
            cases.append({"role": role, "why": why, "share_hex": share.hex()})
        cases.append(
            {
                "role": role,
                "why": "valid point for which K is the identity",
                "share_hex": _k_identity_share(role, w).hex(),
            }
        )
    for case in cases:
        _assert_refused(case["role"], w, secret, bytes.fromhex(case["share_hex"]))
    return _file(
        "SPAKE2 shares that must be refused (section 5): exactly 65 bytes, first byte 0x04, both "
        "coordinates below p, on P-256, not the identity; and after computing K, K not the "
        "identity. cases: {role, why, share_hex}: role is the RECEIVING side (A receives pB, B "
        "receives pA); it uses w_hex and secret_hex and the peer share is share_hex. Each must "
        "end in a failed handshake (reason invalid_share), never in keys.",
        {
            "w_hex": w.to_bytes(32, "big").hex(),
            "secret_hex": secret.to_bytes(32, "big").hex(),
            "cases": cases,
        },
    )


def _assert_refused(role: spake2.Role, w: int, secret: int, share: bytes) -> None:
    own = spake2.start(role, w, secret)
    p_a, p_b = (own, share) if role == "A" else (share, own)
    try:
        spake2.finish(role, w, secret, b"a", b"b", p_a, p_b, b"")
    except spake2.InvalidShare:
        return
    raise AssertionError("generator produced a share that is accepted")


def identity(member: str, public_key: bytes) -> bytes:
    """idX = 'sotto/1' || 0x00 || member_id || 0x00 || key (section 5)."""
    return b"sotto/1\x00" + member.encode("ascii") + b"\x00" + public_key


def vectors_spake2_session() -> dict[str, Any]:
    """A whole handshake between two members: shares, keys, the three pake bodies, pair keys."""
    rng = SeededRandom("spake2-session")
    room_name, password = "The Blue Room", "correct horse"
    rid = room_id(room_name)
    w = password_scalar(password, rid)
    ids = sorted([member_id(rng), member_id(rng)])
    seeds = [rng(32), rng(32)]
    keys = [SigningKey(s).public_key for s in seeds]
    x_draw, x = draw_scalar(rng)
    y_draw, y = draw_scalar(rng)
    id_a, id_b = identity(ids[0], keys[0]), identity(ids[1], keys[1])
    p_a = spake2.start("A", w, x)
    p_b = spake2.start("B", w, y)
    aad = rid.encode("ascii")
    ka = spake2.finish("A", w, x, id_a, id_b, p_a, p_b, aad)
    kb = spake2.finish("B", w, y, id_a, id_b, p_a, p_b, aad)
    assert ka == kb
    return _file(
        "One SPAKE2 handshake between two members (section 5). A is the member whose id sorts "
        "lower. w from password and room_id as in password.json. id_a_hex = 'sotto/1' || 0x00 "
        "|| member_a || 0x00 || key_a (raw Ed25519 public key); id_b likewise; AAD is room_id "
        "(ASCII). x and y are drawn as 40 random bytes (x_draw_hex, y_draw_hex) taken big-endian "
        "mod the P-256 order. TT, Ke, Ka, KcA, KcB, cA, cB exactly as RFC 9382 with w as 32 "
        "bytes. pake1/pake2/pake3 are the exact direct body strings. pair keys: HKDF(ikm=Ke, "
        "salt=room_id, info='sotto/1 pair' || 0x00 || from || 0x00 || to, 32). seed_a_hex and "
        "seed_b_hex are the Ed25519 private seeds behind key_a and key_b.",
        {
            "room_name": room_name,
            "password": password,
            "room_id": rid,
            "w_hex": w.to_bytes(32, "big").hex(),
            "member_a": ids[0],
            "member_b": ids[1],
            "seed_a_hex": seeds[0].hex(),
            "seed_b_hex": seeds[1].hex(),
            "key_a": b64encode(keys[0]),
            "key_b": b64encode(keys[1]),
            "id_a_hex": id_a.hex(),
            "id_b_hex": id_b.hex(),
            "x_draw_hex": x_draw.hex(),
            "x_hex": x.to_bytes(32, "big").hex(),
            "y_draw_hex": y_draw.hex(),
            "y_hex": y.to_bytes(32, "big").hex(),
            "pA_hex": p_a.hex(),
            "pB_hex": p_b.hex(),
            "K_hex": ka.k_point.hex(),
            "TT_hex": ka.transcript.hex(),
            "Ke_hex": ka.ke.hex(),
            "Ka_hex": ka.ka.hex(),
            "KcA_hex": ka.kc_a.hex(),
            "KcB_hex": ka.kc_b.hex(),
            "cA_hex": ka.c_a.hex(),
            "cB_hex": ka.c_b.hex(),
            "pake1": dumps({"k": K_PAKE1, "pA": b64encode(p_a)}),
            "pake2": dumps({"k": K_PAKE2, "pB": b64encode(p_b), "cB": b64encode(ka.c_b)}),
            "pake3": dumps({"k": K_PAKE3, "cA": b64encode(ka.c_a)}),
            "pair_a_to_b_hex": pair_key(ka.ke, rid, ids[0], ids[1]).hex(),
            "pair_b_to_a_hex": pair_key(ka.ke, rid, ids[1], ids[0]).hex(),
        },
    )


def vectors_pairwise() -> dict[str, Any]:
    """Pairwise keys for a few Ke values and member pairs, both directions."""
    rng = SeededRandom("pairwise")
    rid = room_id("Kitchen")
    cases = []
    for _ in range(3):
        ke = rng(16)
        a, b = member_id(rng), member_id(rng)
        for x, y in ((a, b), (b, a)):
            cases.append(
                {
                    "ke_hex": ke.hex(),
                    "room_id": rid,
                    "from": x,
                    "to": y,
                    "key_hex": pair_key(ke, rid, x, y).hex(),
                }
            )
    return _file(
        "Pairwise keys (section 5). cases: {ke_hex, room_id, from, to, key_hex}: key = "
        "HKDF-SHA256(ikm=Ke, salt=room_id (ASCII), info='sotto/1 pair' || 0x00 || from || 0x00 "
        "|| to, 32 bytes). Each pair appears in both directions.",
        {"cases": cases},
    )


def vectors_sealed_direct() -> dict[str, Any]:
    """One sealed direct carrying a sender key, with every intermediate value."""
    rng = SeededRandom("sealed-direct")
    rid = room_id("Kitchen")
    sender, recipient = member_id(rng), member_id(rng)
    key, nonce, ck = rng(32), rng(12), rng(32)
    payload = {"k": K_SENDER_KEY, "epoch": 3, "index": 17, "ck": b64encode(ck)}
    body = seal_direct(key, nonce, rid, sender, recipient, payload)
    return _file(
        "One sealed direct (section 5). key_hex is the pair key from->to, nonce_hex the pinned "
        "nonce. plaintext is the exact JSON text encrypted (UTF-8); aad_hex = 'sotto/1 direct' || "
        "0x00 || room_id || 0x00 || from || 0x00 || to. body is the exact direct body string "
        "{k, n, ct} with ct = AES-256-GCM ciphertext || 16-byte tag. tampered_bodies must all "
        "be refused by the recipient (one ciphertext bit flipped, the nonce changed, and the "
        "untouched body opened as if sent from recipient to sender).",
        {
            "room_id": rid,
            "from": sender,
            "to": recipient,
            "key_hex": key.hex(),
            "nonce_hex": nonce.hex(),
            "plaintext": dumps(payload),
            "aad_hex": direct_aad(rid, sender, recipient).hex(),
            "body": body,
            "tampered_bodies": _tampered_direct(key, nonce, rid, sender, recipient, payload),
        },
    )


def _tampered_direct(
    key: bytes, nonce: bytes, rid: str, sender: str, recipient: str, payload: dict[str, Any]
) -> list[str]:
    good = json.loads(seal_direct(key, nonce, rid, sender, recipient, payload))
    ct = bytearray(b64decode(good["ct"]))
    ct[0] ^= 1
    flipped = dumps({"k": "sealed", "n": good["n"], "ct": b64encode(bytes(ct))})
    other_nonce = bytes([nonce[0] ^ 1]) + nonce[1:]
    renonced = dumps({"k": "sealed", "n": b64encode(other_nonce), "ct": good["ct"]})
    return [flipped, renonced]


def vectors_ratchet() -> dict[str, Any]:
    """A chain of message keys and an out-of-order delivery with the skipped keys after each."""
    rng = SeededRandom("ratchet")
    ck0 = rng(32)
    steps = []
    ck = ck0
    for i in range(8):
        steps.append({"index": i, "ck_hex": ck.hex(), "mk_hex": message_key(ck).hex()})
        ck = next_chain_key(ck)
    order = [0, 3, 1, 7, 2, 6, 5, 4]
    delivery = []
    held: set[int] = set()
    nxt = 0
    for i in order:
        if i >= nxt:
            held.update(range(nxt, i))
            nxt = i + 1
        else:
            held.discard(i)
        delivery.append({"index": i, "mk_hex": steps[i]["mk_hex"], "skipped_after": sorted(held)})
    return _file(
        "Sender-key hash ratchet (section 6). steps: {index, ck_hex, mk_hex} with MK_i = "
        "HMAC-SHA256(key=CK_i, msg=0x01) and CK_{i+1} = HMAC-SHA256(key=CK_i, msg=0x02), from "
        "ck0_hex = CK_0. delivery: a receiver starting at (index 0, CK_0) gets the indices in "
        "this order; each entry gives the message key it must use and the sorted indices of "
        "the skipped keys it holds afterwards. Then every index delivered a second time must "
        "be refused (its key is gone). max_skip: a receiver at next index n accepts index i only "
        "if i - n <= max_skip; max_skipped_keys is the bound on held skipped keys per chain "
        "(the oldest are dropped first).",
        {
            "ck0_hex": ck0.hex(),
            "steps": steps,
            "delivery": delivery,
            "max_skip": 2000,
            "max_skipped_keys": 2000,
        },
    )


def vectors_fingerprint() -> dict[str, Any]:
    """Fingerprints of a few keys in two rooms, raw and as shown."""
    rng = SeededRandom("fingerprint")
    cases = []
    for room in ("Kitchen", "ΣΑΣ"):
        rid = room_id(room)
        for _ in range(2):
            key = SigningKey(rng(32)).public_key
            cases.append(
                {
                    "room_id": rid,
                    "key": b64encode(key),
                    "fp_hex": fingerprint_bytes(rid, key).hex(),
                    "display": fingerprint(rid, key),
                }
            )
    return _file(
        "Fingerprints (section 7). cases: {room_id, key, fp_hex, display}: fp = SHA-256("
        "'sotto/1 fingerprint' || 0x00 || room_id || 0x00 || key)[0:10], display = five "
        "big-endian u16 of fp, each zero-padded to 5 digits, joined by single spaces.",
        {"cases": cases},
    )


BROADCAST_TEXTS = [
    "hello",
    'Grüße, "quoted" \\ back\nslash\t\u2028 and emoji \U0001f510 <b>&</b>',
    "a" * 22,
    "b" * 23,
    "",
]


def vectors_broadcast() -> dict[str, Any]:
    """Whole broadcast bodies from one sender chain, each value pinned, plus tampered ones."""
    rng = SeededRandom("broadcast")
    rid = room_id("Kitchen")
    sender = member_id(rng)
    seed = rng(32)
    signer = SigningKey(seed)
    epoch = 2
    ck0 = rng(32)
    ck = ck0
    messages = []
    for index, text in enumerate(BROADCAST_TEXTS):
        ts = 1_760_000_000_000 + index * 1111
        mk = message_key(ck)
        nonce = rng(12)
        plaintext = text_plaintext(text, ts)
        body = seal_broadcast(signer, rid, sender, epoch, index, mk, nonce, plaintext)
        messages.append(
            {
                "index": index,
                "text": text,
                "ts": ts,
                "ck_hex": ck.hex(),
                "mk_hex": mk.hex(),
                "nonce_hex": nonce.hex(),
                "plaintext": plaintext.decode("utf-8"),
                "padded_hex": pad(plaintext).hex(),
                "aad_hex": message_aad(rid, sender, epoch, index).hex(),
                "body": body,
            }
        )
        ck = next_chain_key(ck)
    return _file(
        "Broadcast bodies (section 6) from one sender: sender is the member id the server "
        "stamps as 'from', seed_hex its Ed25519 seed, key its public key, epoch the chain "
        "epoch, ck0_hex = CK_0. messages: {index, text, ts, ck_hex, mk_hex, nonce_hex, "
        "plaintext, padded_hex, aad_hex, body}: plaintext = JSON {t:'text', body:text, ts} "
        "(compact, this key order); padded = plaintext || 0x80 || 0x00* to a multiple of 64 "
        "(texts of 22 and 23 'a'/'b' give plaintexts of 63 and 64 bytes); aad = 'sotto/1 msg' "
        "|| 0x00 || room_id || 0x00 || sender || 0x00 || u32(epoch) || u32(index); ct = "
        "AES-256-GCM(key=MK, nonce, padded, aad) with the tag appended; sig = Ed25519(seed, aad "
        "|| nonce || ct); body = JSON {e, i, n, ct, sig} (compact, this key order). Ed25519 is "
        "deterministic, so sig is reproducible. delivery_order: a receiver given (epoch, 0, "
        "CK_0) must open every body in this order and then refuse each again as a replay. "
        "tampered: {why, body}: each must be refused when sent from sender.",
        {
            "room_id": rid,
            "sender": sender,
            "seed_hex": seed.hex(),
            "key": b64encode(signer.public_key),
            "epoch": epoch,
            "ck0_hex": ck0.hex(),
            "messages": messages,
            "delivery_order": [1, 0, 4, 2, 3],
            "tampered": _tampered_broadcasts(messages[0]["body"], signer, rid, sender, epoch),
        },
    )


def _tampered_broadcasts(
    body: str, signer: SigningKey, rid: str, sender: str, epoch: int
) -> list[dict[str, str]]:
    good = json.loads(body)
    ct = bytearray(b64decode(good["ct"]))
    ct[-1] ^= 0x80
    sig = bytearray(b64decode(good["sig"]))
    sig[5] ^= 1
    return [
        {"why": "ciphertext bit flipped", "body": dumps({**good, "ct": b64encode(bytes(ct))})},
        {"why": "signature bit flipped", "body": dumps({**good, "sig": b64encode(bytes(sig))})},
        {"why": "epoch changed", "body": dumps({**good, "e": epoch + 1})},
        {"why": "index changed", "body": dumps({**good, "i": 1})},
        {"why": "padded nonce", "body": dumps({**good, "n": good["n"] + "="})},
        {"why": "not JSON", "body": body[:-1]},
    ]


GENERATORS = {
    "b64.json": vectors_b64,
    "room_id.json": vectors_room_id,
    "password.json": vectors_password,
    "spake2_invalid_shares.json": vectors_invalid_shares,
    "spake2_session.json": vectors_spake2_session,
    "pairwise.json": vectors_pairwise,
    "sealed_direct.json": vectors_sealed_direct,
    "ratchet.json": vectors_ratchet,
    "fingerprint.json": vectors_fingerprint,
    "broadcast.json": vectors_broadcast,
}


def render(data: dict[str, Any]) -> str:
    """The exact file text of a vector object."""
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main(out_dir: Path = HERE) -> None:
    """Write every vector file into out_dir."""
    for name, make in GENERATORS.items():
        (out_dir / name).write_text(render(make()), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
