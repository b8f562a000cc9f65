#!/usr/bin/env python3
"""Reference implementation and test-vector generator for the Hush crypto suite `hush-v1`.

This script is an independent re-implementation, in Python, of the section
"Crypto suite `hush-v1`" of the design (docs: /work/shared/DESIGN.md), steps 1-4 and
the second edition's steps 6-9:

  1. Password -> keys        (PBKDF2-HMAC-SHA256 over NFKC(password), HKDF-SHA256), and the
                             prelogin answers a client must refuse (iterations, salt length)
  2. Identity                (P-256 key pairs; PKCS#8 private keys wrapped with AES-256-GCM under kek)
  3. Conversation keys       (ECDH + HKDF key wrap of ck, HMAC commit)
  4. Messages                (AES-256-GCM seal, ECDSA signature over aad || nonce || ciphertext)
  6. Key-set statement       (keys2 statement, head, keys_signature, message aad naming the head),
  7. and the chain's rules   a genuine chain of four epochs (a join, a signed departure, a removal
                             by the creator), and whole wire conversations the verifier must refuse,
                             one epoch or many, each with the first rule that refuses it (an
                             independent reading of the rules)
  8. Contact book            (cbk by HKDF from mk; the book sealed under it, its version in the aad)
  9. Safety numbers          (Signal's numeric fingerprint v0; libsignal's published vector)

Signatures also come the other way: one made by Chromium's WebCrypto and one by the Rust
twin (p256) are pasted in below (CROSS_SIGNATURES) and verified here.

It writes `tests/vectors/hush-v1.json`, which the Rust native twin (`cargo test`)
and the browser WebCrypto implementation are checked against.

Usage (from the repository root):

    python3 tools/vectors/gen_hush_v1.py           # (re)write tests/vectors/hush-v1.json
    python3 tools/vectors/gen_hush_v1.py --check   # recompute; exit 1 if the file differs

Everything is deterministic: every "random" input (salts, nonces, private scalars,
content keys) is SHA-256 of a fixed label, and ECDSA signatures use RFC 6979
deterministic nonces, computed by the small pure-Python P-256 code below and
cross-checked against `cryptography`'s own RFC 6979 signer when it has one.
So two runs produce byte-identical files.

Primitives come from the `cryptography` package (OpenSSL); PBKDF2, HKDF and HMAC are
cross-checked against the Python standard library, and the EC operations (public
key derivation, ECDH, ECDSA) against the pure-Python P-256 code. After generating,
`self_check` re-reads the document as a consumer would and verifies every output.

Requires: Python >= 3.9, `pip install cryptography`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
import unicodedata
import uuid
from pathlib import Path

import cryptography
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as c_hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

SUITE = "hush-v1"
REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_PATH = REPO_ROOT / "tests" / "vectors" / "hush-v1.json"

# ---------------------------------------------------------------------------
# Encoding helpers
# ---------------------------------------------------------------------------


def b64u(data: bytes) -> str:
    """base64url without padding (the wire encoding of all byte strings)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    """Strict inverse of b64u: rejects padding and non-canonical encodings."""
    assert "=" not in text, f"padding in {text!r}"
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert b64u(data) == text, f"non-canonical base64url {text!r}"
    return data


def fixed_bytes(label: str, n: int) -> bytes:
    """Deterministic stand-in for `n` random bytes: SHA-256 of a label (n <= 32)."""
    assert n <= 32
    return hashlib.sha256(f"hush-v1 test vector|{label}".encode()).digest()[:n]


def fixed_long(label: str, n: int) -> bytes:
    """`n` such bytes, of any length: fixed_bytes of "{label}|{i}" for each 32 in turn."""
    return b"".join(fixed_bytes(f"{label}|{i}", 32) for i in range(-(-n // 32)))[:n]


# ---------------------------------------------------------------------------
# Minimal pure-Python P-256 (for cross-checks and RFC 6979 signing)
# ---------------------------------------------------------------------------

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)


def _point_add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return (x3, (lam * (x1 - x3) - y1) % P)


def _scalar_mult(k: int, point):
    result = None
    while k:
        if k & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        k >>= 1
    return result


def _raw_point(pt) -> bytes:
    return b"\x04" + pt[0].to_bytes(32, "big") + pt[1].to_bytes(32, "big")


def _parse_point(raw: bytes):
    assert len(raw) == 65 and raw[0] == 4
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:], "big")
    assert (y * y - (x * x * x + A * x + B)) % P == 0, "point not on curve"
    return (x, y)


def _hmac256(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def rfc6979_k(d: int, msg_hash: bytes, attempt_extra: int = 0):
    """RFC 6979 section 3.2 nonce generator for qlen = hlen = 256 (yields candidates)."""
    x = d.to_bytes(32, "big")
    h1 = (int.from_bytes(msg_hash, "big") % N).to_bytes(32, "big")  # bits2octets
    v, k = b"\x01" * 32, b"\x00" * 32
    k = _hmac256(k, v + b"\x00" + x + h1)
    v = _hmac256(k, v)
    k = _hmac256(k, v + b"\x01" + x + h1)
    v = _hmac256(k, v)
    while True:
        v = _hmac256(k, v)
        cand = int.from_bytes(v, "big")
        if 1 <= cand < N:
            yield cand
        k = _hmac256(k, v + b"\x00")
        v = _hmac256(k, v)


def ecdsa_sign_rfc6979(d: int, message: bytes) -> bytes:
    """ECDSA-P256-SHA256 with RFC 6979 nonce; returns r || s (64 bytes), s NOT normalised."""
    h = hashlib.sha256(message).digest()
    e = int.from_bytes(h, "big")
    for k in rfc6979_k(d, h):
        r = _scalar_mult(k, G)[0] % N
        if r == 0:
            continue
        s = pow(k, -1, N) * (e + r * d) % N
        if s == 0:
            continue
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise AssertionError("unreachable")


def ecdsa_verify_pure(public_raw: bytes, message: bytes, sig: bytes) -> bool:
    """Plain ECDSA verification (accepts high-S, as WebCrypto and p256 do)."""
    q = _parse_point(public_raw)
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (1 <= r < N and 1 <= s < N):
        return False
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    w = pow(s, -1, N)
    pt = _point_add(_scalar_mult(e * w % N, G), _scalar_mult(r * w % N, q))
    return pt is not None and pt[0] % N == r


def _selftest_rfc6979() -> None:
    """RFC 6979 appendix A.2.5, P-256, SHA-256, message "sample"."""
    d = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721
    sig = ecdsa_sign_rfc6979(d, b"sample")
    assert sig.hex().upper() == (
        "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
        "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
    ), "RFC 6979 A.2.5 known-answer test failed"


# ---------------------------------------------------------------------------
# Key pairs and PKCS#8
# ---------------------------------------------------------------------------


class KeyPair:
    """A P-256 key pair with a fixed private scalar (used for both ECDH and ECDSA)."""

    def __init__(self, name: str):
        self.name = name
        counter = 0
        while True:  # derive a scalar in [1, n-1] from the name, deterministically
            d = int.from_bytes(fixed_bytes(f"scalar|{name}|{counter}", 32), "big")
            if 1 <= d < N:
                break
            counter += 1
        self.d = d
        self.scalar = d.to_bytes(32, "big")
        self.key = ec.derive_private_key(d, ec.SECP256R1())
        self.public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        assert self.public == _raw_point(_scalar_mult(d, G)), "public key cross-check"
        self.pkcs8 = self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        assert self.pkcs8 == chromium_pkcs8(self.scalar, self.public), "PKCS#8 layout"

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "private_scalar": b64u(self.scalar),
            "pkcs8": b64u(self.pkcs8),
            "public": b64u(self.public),
        }


def chromium_pkcs8(scalar: bytes, public: bytes) -> bytes:
    """PKCS#8 DER exactly as Chromium's WebCrypto exportKey("pkcs8") writes a P-256 key.

    PrivateKeyInfo { version 0, AlgorithmIdentifier { id-ecPublicKey, prime256v1 },
    OCTET STRING { ECPrivateKey { version 1, privateKey OCTET STRING(32),
    [1] publicKey BIT STRING(0x00 || 65-byte point) } } }  -- no [0] parameters; 138 bytes.
    """
    assert len(scalar) == 32 and len(public) == 65
    ec_private_key = (
        bytes([0x30, 0x6B])
        + bytes([0x02, 0x01, 0x01])
        + bytes([0x04, 0x20]) + scalar
        + bytes([0xA1, 0x44, 0x03, 0x42, 0x00]) + public
    )
    alg = bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")
    body = bytes([0x02, 0x01, 0x00]) + alg + bytes([0x04, len(ec_private_key)]) + ec_private_key
    der = bytes([0x30, 0x81, len(body)]) + body
    assert len(der) == 138
    return der


def p1363_sign(kp: KeyPair, message: bytes) -> bytes:
    """ECDSA-P256-SHA256, r || s (IEEE P1363, 64 bytes, never DER), RFC 6979 deterministic."""
    sig = ecdsa_sign_rfc6979(kp.d, message)
    if DETERMINISTIC_ECDSA:
        der = kp.key.sign(message, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        assert sig == r.to_bytes(32, "big") + s.to_bytes(32, "big"), "RFC 6979 cross-check"
    return sig


def p1363_verify(public: bytes, message: bytes, sig: bytes) -> bool:
    """Verify r || s with cryptography (OpenSSL) and with the pure-Python verifier."""
    assert len(sig) == 64
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        pub.verify(der, message, ec.ECDSA(hashes.SHA256()))
        ok = True
    except InvalidSignature:
        ok = False
    assert ok == ecdsa_verify_pure(public, message, sig), "ECDSA verify cross-check"
    return ok


def _has_deterministic_ecdsa() -> bool:
    try:
        k = ec.derive_private_key(1, ec.SECP256R1())
        a = k.sign(b"x", ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        return a == k.sign(b"x", ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    except (TypeError, cryptography.exceptions.UnsupportedAlgorithm):
        return False


DETERMINISTIC_ECDSA = _has_deterministic_ecdsa()

# ---------------------------------------------------------------------------
# Primitive wrappers (each cross-checked against the standard library)
# ---------------------------------------------------------------------------


def hkdf_sha256(ikm: bytes, salt: bytes | None, info: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869). salt=None means "empty" (= HashLen zero bytes)."""
    out = HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)
    prk = _hmac256(salt if salt else b"", ikm)  # empty key == 32 zero bytes for HMAC
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = _hmac256(prk, t + info + bytes([i]))
        okm, i = okm + t, i + 1
    assert out == okm[:length], "HKDF cross-check"
    return out


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    h = c_hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    out = h.finalize()
    assert out == _hmac256(key, data), "HMAC cross-check"
    return out


def aes256gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM; returns ciphertext || 16-byte tag (WebCrypto layout)."""
    assert len(key) == 32 and len(nonce) == 12
    return AESGCM(key).encrypt(nonce, plaintext, aad)


def aes256gcm_decrypt(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(nonce, ciphertext, aad)


# ---------------------------------------------------------------------------
# Step 1: Password -> keys
# ---------------------------------------------------------------------------


def step1_password_to_keys(username: str, password: str, kdf_salt: bytes, iterations: int) -> dict:
    """Spec step 1.

    salt     = SHA-256("hush-v1|salt|{username}|" || kdf_salt)
    mk       = PBKDF2-HMAC-SHA256(NFKC(password), salt, kdf_iterations, 32 bytes)
    auth_key = HKDF-SHA256(ikm=mk, salt=empty, info="hush-v1|auth", 32)
    kek      = HKDF-SHA256(ikm=mk, salt=empty, info="hush-v1|kek", 32)
    """
    assert len(kdf_salt) == 16
    password_nfkc = unicodedata.normalize("NFKC", password)
    salt = hashlib.sha256(f"hush-v1|salt|{username}|".encode() + kdf_salt).digest()
    pw = password_nfkc.encode("utf-8")
    mk = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations).derive(pw)
    assert mk == hashlib.pbkdf2_hmac("sha256", pw, salt, iterations, 32), "PBKDF2 cross-check"
    auth_key = hkdf_sha256(mk, None, b"hush-v1|auth")
    kek = hkdf_sha256(mk, None, b"hush-v1|kek")
    return {
        "username": username,
        "password": password,
        "password_nfkc": password_nfkc,
        "kdf_salt": b64u(kdf_salt),
        "kdf_iterations": iterations,
        "salt": b64u(salt),
        "mk": b64u(mk),
        "auth_key": b64u(auth_key),
        "kek": b64u(kek),
    }


# ---------------------------------------------------------------------------
# Step 2: Identity (wrapped private keys)
# ---------------------------------------------------------------------------


def identity_aad(username: str, which: str) -> str:
    """Spec step 2: aad = "hush-v1|identity|{username}|dh" (or "...|sig")."""
    assert which in ("dh", "sig")
    return f"hush-v1|identity|{username}|{which}"


def step2_wrap_identity_key(username: str, which: str, kek: bytes, pkcs8: bytes, nonce: bytes) -> dict:
    """Spec step 2: wrapped = nonce(12) || AES-256-GCM(kek, nonce, pkcs8, aad)."""
    aad = identity_aad(username, which)
    wrapped = nonce + aes256gcm_encrypt(kek, nonce, pkcs8, aad.encode())
    return {
        "username": username,
        "which": which,
        "kek": b64u(kek),
        "pkcs8": b64u(pkcs8),
        "nonce": b64u(nonce),
        "aad": aad,
        "wrapped": b64u(wrapped),
    }


# ---------------------------------------------------------------------------
# Step 3: Conversation keys (wrap, commit, keys_signature)
# ---------------------------------------------------------------------------


def wrap_info(conversation_id: str, epoch: int, member_id: str) -> str:
    """Spec step 3: info = "hush-v1|wrap|{conversation_id}|{epoch}|{member_id}" (epoch in decimal)."""
    return f"hush-v1|wrap|{conversation_id}|{epoch}|{member_id}"


def step3_wrap_content_key(conversation_id: str, epoch: int, member_id: str, member_dh: KeyPair,
                           ephemeral: KeyPair, ck: bytes, nonce: bytes) -> dict:
    """Spec step 3, per member.

    z           = ECDH(E.private, member.dh_public)              (32-byte x-coordinate)
    wk          = HKDF-SHA256(ikm=z, salt=E.public || member.dh_public, info, 32)
    wrapped_key = E.public(65) || nonce(12) || AES-256-GCM(wk, nonce, ck, aad=info)
    """
    info = wrap_info(conversation_id, epoch, member_id)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), member_dh.public)
    z = ephemeral.key.exchange(ec.ECDH(), peer)
    assert z == _scalar_mult(ephemeral.d, _parse_point(member_dh.public))[0].to_bytes(32, "big"), "ECDH cross-check"
    hkdf_salt = ephemeral.public + member_dh.public
    wk = hkdf_sha256(z, hkdf_salt, info.encode())
    wrapped_key = ephemeral.public + nonce + aes256gcm_encrypt(wk, nonce, ck, info.encode())
    return {
        "conversation_id": conversation_id,
        "epoch": epoch,
        "member_id": member_id,
        "member_dh_public": b64u(member_dh.public),
        "member_dh_private_pkcs8": b64u(member_dh.pkcs8),
        "ephemeral_private_scalar": b64u(ephemeral.scalar),
        "ephemeral_public": b64u(ephemeral.public),
        "ck": b64u(ck),
        "nonce": b64u(nonce),
        "info": info,
        "z": b64u(z),
        "hkdf_salt": b64u(hkdf_salt),
        "wk": b64u(wk),
        "wrapped_key": b64u(wrapped_key),
    }


def step3_commit(ck: bytes, conversation_id: str, epoch: int) -> bytes:
    """Spec step 3: commit = HMAC-SHA256(key=ck, "hush-v1|commit|{conversation_id}|{epoch}")."""
    return hmac_sha256(ck, f"hush-v1|commit|{conversation_id}|{epoch}".encode())


def key_tree_leaf(member_id: str, wrapped_key: bytes) -> bytes:
    """Spec step 6: a leaf of the key tree, SHA-256(0x00 || member_id || ":" || wrapped_key)."""
    return hashlib.sha256(b"\x00" + member_id.encode("utf-8") + b":" + wrapped_key).digest()


def _split(n: int) -> int:
    """RFC 9162: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def key_tree_root(leaves: list[bytes]) -> bytes:
    """RFC 9162's MTH over leaf hashes (never empty): SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))."""
    assert leaves
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return hashlib.sha256(b"\x01" + key_tree_root(leaves[:k]) + key_tree_root(leaves[k:])).digest()


def key_tree_path(m: int, leaves: list[bytes]) -> bytes:
    """RFC 9162's PATH(m, D[n]) over leaf hashes, bottom up, its nodes concatenated."""
    if len(leaves) <= 1:
        return b""
    k = _split(len(leaves))
    if m < k:
        return key_tree_path(m, leaves[:k]) + key_tree_root(leaves[k:])
    return key_tree_path(m - k, leaves[k:]) + key_tree_root(leaves[:k])


def step6_key_root(members: list[dict]) -> bytes:
    """Spec step 6: the root of the key tree over the members' wrapped keys, leaves in ascending
    byte order of the id. `members` items hold member_id (str) and wrapped_key (bytes)."""
    ordered = sorted(members, key=lambda m: m["member_id"].encode("utf-8"))
    return key_tree_root([key_tree_leaf(m["member_id"], m["wrapped_key"]) for m in ordered])


def step6_statement(conversation_id: str, epoch: int, signer_id: str, commit: bytes, prev: bytes,
                    members: list[dict], departures: list[str]) -> str:
    """Spec step 6 (second edition): statement_n, which keys_signature signs.

    "hush-v1|keys2|{conversation_id}|{n}|{signer_id}|commit:" || b64u(commit) || "|prev:" || b64u(prev)
    || "|keys:" || b64u(key_root) || "|"
    then, for each member in ascending byte order of the id,
    "{member_id}:{username}:{b64u(dh_public)}:{b64u(sig_public)};"
    then, for each departure in ascending byte order of the id, "left:{member_id};".
    `members` items hold bytes: member_id (str), username (str), dh_public, sig_public, wrapped_key.
    """
    root = step6_key_root(members)
    text = (f"hush-v1|keys2|{conversation_id}|{epoch}|{signer_id}|commit:{b64u(commit)}|prev:{b64u(prev)}|"
            f"keys:{b64u(root)}|")
    for m in sorted(members, key=lambda m: m["member_id"].encode("utf-8")):
        text += f"{m['member_id']}:{m['username']}:{b64u(m['dh_public'])}:{b64u(m['sig_public'])};"
    for member_id in sorted(departures, key=lambda d: d.encode("utf-8")):
        text += f"left:{member_id};"
    return text


GENESIS_PREV = bytes(32)


# ---------------------------------------------------------------------------
# Step 4: Messages
# ---------------------------------------------------------------------------


def message_aad(conversation_id: str, epoch: int, head: bytes, message_id: str, sender_id: str) -> str:
    """Spec step 6: aad = "hush-v1|msg|{conversation_id}|{epoch}|" || b64u(head) || "|{message_id}|{sender_id}"."""
    return f"hush-v1|msg|{conversation_id}|{epoch}|{b64u(head)}|{message_id}|{sender_id}"


def message_plaintext(body: str, sent_at: str) -> str:
    """Spec step 4 plaintext, as JSON.stringify writes it (compact, raw UTF-8, key order fixed)."""
    return json.dumps({"v": 1, "kind": "text", "body": body, "sent_at": sent_at},
                      separators=(",", ":"), ensure_ascii=False)


def leave_plaintext(signature: bytes, sent_at: str) -> str:
    """A plaintext of kind leave (a member's signed departure), as JSON.stringify writes it."""
    return json.dumps({"v": 1, "kind": "leave", "signature": b64u(signature), "sent_at": sent_at},
                      separators=(",", ":"), ensure_ascii=False)


PAD_BLOCK, PAD_MIN = 64, 256


def pad(data: bytes) -> bytes:
    """Live conversation: the JSON, 0x80, then zeros to the smallest multiple of 64 bytes that
    holds both, never under 256."""
    n = max(-(-(len(data) + 1) // PAD_BLOCK) * PAD_BLOCK, PAD_MIN)
    return data + b"\x80" + b"\x00" * (n - len(data) - 1)


def unpad(data: bytes) -> bytes | None:
    """What a reader does: a multiple of 64, trailing zeros stripped, then 0x80 required."""
    if len(data) % PAD_BLOCK:
        return None
    stripped = data.rstrip(b"\x00")
    return stripped[:-1] if stripped.endswith(b"\x80") else None


def paddings() -> dict:
    """Padded lengths at and around every boundary, and padded texts a reader refuses."""
    lengths = [0, 1, 63, 64, 200, 254, 255, 256, 300, 319, 320, 1000]
    padded = []
    for n in lengths:
        data = fixed_long(f"padding|{n}", n)
        padded.append({"json": b64u(data), "padded": b64u(pad(data)), "length": len(pad(data))})
    good = pad(b'{"v":1}')
    bad_tail = bytearray(good)
    bad_tail[-1] = 0x01
    refused = [
        {"padded": b64u(good[:-1]), "comment": "not a multiple of 64"},
        {"padded": b64u(bytes(256)), "comment": "no 0x80"},
        {"padded": b64u(bytes(bad_tail)), "comment": "a byte after the 0x80 that is not zero"},
        {"padded": b64u(b'{"v":1}' + bytes(249)), "comment": "zeros without the 0x80"},
        {"padded": "", "comment": "nothing"},
    ]
    return {"lengths": padded, "refused": refused}


def step4_seal_message(conversation_id: str, epoch: int, head: bytes, message_id: str, sender_id: str,
                       sender_sig: KeyPair, ck: bytes, nonce: bytes, plaintext: str) -> dict:
    """Spec step 4, with the live conversation's padding.

    padded     = plaintext || 0x80 || zeros (a multiple of 64 bytes, at least 256)
    ciphertext = AES-256-GCM(ck[epoch], nonce, padded, aad)
    signature  = ECDSA-P256-SHA256(sender.sig, aad || nonce || ciphertext), r || s
    """
    aad = message_aad(conversation_id, epoch, head, message_id, sender_id)
    padded = pad(plaintext.encode("utf-8"))
    ciphertext = aes256gcm_encrypt(ck, nonce, padded, aad.encode())
    signature = p1363_sign(sender_sig, aad.encode() + nonce + ciphertext)
    return {
        "conversation_id": conversation_id,
        "epoch": epoch,
        "head": b64u(head),
        "message_id": message_id,
        "sender_id": sender_id,
        "ck": b64u(ck),
        "nonce": b64u(nonce),
        "plaintext": plaintext,
        "padded": b64u(padded),
        "aad": aad,
        "ciphertext": b64u(ciphertext),
        "sender_sig_pkcs8": b64u(sender_sig.pkcs8),
        "sender_sig_public": b64u(sender_sig.public),
        "signature": b64u(signature),
    }


# ---------------------------------------------------------------------------
# Step 8: the contact book kept on the server
# ---------------------------------------------------------------------------


def step8_contacts_key(mk: bytes) -> bytes:
    """Spec step 8: cbk = HKDF-SHA256(mk, salt=empty, info="hush-v1|contacts", 32)."""
    return hkdf_sha256(mk, None, b"hush-v1|contacts")


def contacts_aad(user_id: str, version: int) -> str:
    """Spec step 8: aad = "hush-v1|contacts|{user_id}|{version}" (version from 1, decimal)."""
    assert version >= 1
    return f"hush-v1|contacts|{user_id}|{version}"


def public_user(user_id: str, username: str, dh: KeyPair, sig: KeyPair) -> dict:
    """A user as the wire and the contact book carry it: {id, username, dh_public, sig_public}."""
    return {"id": user_id, "username": username, "dh_public": b64u(dh.public), "sig_public": b64u(sig.public)}


def book_plaintext(prev: str, contacts: list[tuple[dict, bool]]) -> str:
    """Spec step 8 plaintext as the app writes it (crypto::pins::Shared through serde_json):
    compact, fields in declaration order, contacts in ascending id order (the book is a map by id)."""
    rows = [{"user": user, "verified": verified}
            for user, verified in sorted(contacts, key=lambda c: c[0]["id"].encode())]
    return json.dumps({"prev": prev, "contacts": rows}, separators=(",", ":"), ensure_ascii=False)


def step8_seal_book(username: str, user_id: str, mk: bytes, version: int, nonce: bytes,
                    plaintext: str) -> dict:
    """Spec step 8: sealed = nonce(12) || AES-256-GCM(cbk, nonce, json, aad)."""
    cbk = step8_contacts_key(mk)
    aad = contacts_aad(user_id, version)
    sealed = nonce + aes256gcm_encrypt(cbk, nonce, plaintext.encode("utf-8"), aad.encode())
    return {
        "username": username,
        "user_id": user_id,
        "mk": b64u(mk),
        "cbk": b64u(cbk),
        "version": version,
        "nonce": b64u(nonce),
        "aad": aad,
        "plaintext": plaintext,
        "sealed": b64u(sealed),
    }


# ---------------------------------------------------------------------------
# Step 9: safety numbers (Signal's numeric fingerprint, version 0)
# ---------------------------------------------------------------------------

SAFETY_ROUNDS = 5200


def step9_party_hash(key: bytes, ident: bytes) -> bytes:
    """h = SHA-512(0x00 0x00 || key || id || key), then 5,199 more times h = SHA-512(h || key)."""
    h = hashlib.sha512(b"\x00\x00" + key + ident + key).digest()
    first = hashes.Hash(hashes.SHA512())
    first.update(b"\x00\x00" + key + ident + key)
    assert first.finalize() == h, "SHA-512 cross-check"
    for _ in range(SAFETY_ROUNDS - 1):
        h = hashlib.sha512(h + key).digest()
    return h


def step9_digits(h: bytes) -> str:
    """The first 30 bytes as six 5-byte big-endian numbers, each mod 100000, 5 digits each."""
    return "".join(f"{int.from_bytes(h[i:i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5))


def step9_safety_number(parties: list[tuple[bytes, bytes]], comment: str, users: list[dict] | None) -> dict:
    """Both parties' 30 digits, the lower string first (60 digits), and the 65-byte QR payload
    0x00 || first 32 bytes of the lower party's hash || first 32 bytes of the higher's."""
    rows = []
    for key, ident in parties:
        h = step9_party_hash(key, ident)
        rows.append({"key": b64u(key), "id": b64u(ident), "hash": b64u(h), "digits": step9_digits(h)})
    low, high = sorted(rows, key=lambda r: r["digits"].encode())
    qr = b"\x00" + unb64u(low["hash"])[:32] + unb64u(high["hash"])[:32]
    return {
        "comment": comment,
        "users": users,
        "parties": rows,
        "digits": low["digits"] + high["digits"],
        "qr": b64u(qr),
    }


# libsignal's published fingerprint vector (its fingerprint tests, version 0, 5200 iterations):
# two identity keys (33-byte Curve25519 keys with their 0x05 type byte) and two phone numbers.
LIBSIGNAL_KEYS = (
    bytes.fromhex("0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868"),
    bytes.fromhex("05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b"),
)
LIBSIGNAL_IDS = (b"+14152222222", b"+14153333333")
LIBSIGNAL_DIGITS = "300354477692869396892869876765458257569162576843440918079131"


def _selftest_libsignal() -> None:
    """Our construction reproduces libsignal's published displayable fingerprint."""
    entry = step9_safety_number(list(zip(LIBSIGNAL_KEYS, LIBSIGNAL_IDS)), "libsignal", None)
    assert entry["digits"] == LIBSIGNAL_DIGITS, "libsignal fingerprint known-answer test failed"


# ---------------------------------------------------------------------------
# Steps 6-7 refused: whole conversations the key-set verifier must refuse
# ---------------------------------------------------------------------------


def epoch_statement(conversation_id: str, epoch: dict, prev: bytes) -> str | None:
    """statement_n of one wire epoch (JSON as the server sends it): members joined with their
    wrapped keys by id, then the departures it carries (an epoch without the field carries none);
    None if a member has no key (no statement can be built)."""
    rows = []
    for m in epoch["members"]:
        keys = [k for k in epoch["keys"] if k["member_id"] == m["id"]]
        if not keys:
            return None
        rows.append({"member_id": m["id"], "username": m["username"], "dh_public": unb64u(m["dh_public"]),
                     "sig_public": unb64u(m["sig_public"]), "wrapped_key": unb64u(keys[0]["wrapped_key"])})
    left = [d["member_id"] for d in epoch.get("departures", [])]
    return step6_statement(conversation_id, epoch["epoch"], epoch["signer_id"], unb64u(epoch["commit"]), prev,
                           rows, left)


def step7_leave_text(conversation_id: str, epoch_left: int, head_left: bytes, member_id: str) -> str:
    """Spec step 7: what a member leaving epoch n signs (UTF-8), and epoch n+1 carries:
    "hush-v1|leave|{conversation_id}|{n}|" || b64u(head_n) || "|{member_id}"."""
    return f"hush-v1|leave|{conversation_id}|{epoch_left}|{b64u(head_left)}|{member_id}"


def wire_conversation(members: list[dict], keys: list[dict], commit: bytes, signer_id: str,
                      signer: KeyPair | None, signature: bytes | None = None,
                      access: list[dict] | None = None) -> dict:
    """A one-epoch conversation as model::conversation::Conversation serialises it. With `signer`,
    epoch 0's statement (as built from these members and keys) is signed with it."""
    epoch = {"epoch": 0, "signer_id": signer_id, "commit": b64u(commit), "members": members,
             "keys": keys, "keys_signature": "", "departures": []}
    if signer is not None:
        statement = epoch_statement(CONV_ID, epoch, GENESIS_PREV)
        assert statement is not None
        signature = p1363_sign(signer, statement.encode())
    assert signature is not None
    epoch["keys_signature"] = b64u(signature)
    return {
        "id": CONV_ID,
        "title": "Lunch on Thursday",
        "created_by": ALICE_ID,
        "created_at": "2026-11-25T22:00:00.000Z",
        "last_seq": 0,
        "members": access if access is not None else members,
        "epochs": [epoch],
        "pending": [],
    }


def _unwrap_ck(wrapped: bytes, conversation_id: str, epoch: int, member_id: str, dh_pkcs8: bytes) -> bytes:
    """Spec step 3 the member's way round: ECDH with E.public, HKDF, AES-GCM open."""
    member = serialization.load_der_private_key(dh_pkcs8, password=None)
    eph_pub, nonce, body = wrapped[:65], wrapped[65:77], wrapped[77:]
    z = member.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), eph_pub))
    member_pub = member.public_key().public_bytes(serialization.Encoding.X962,
                                                  serialization.PublicFormat.UncompressedPoint)
    info = wrap_info(conversation_id, epoch, member_id)
    wk = hkdf_sha256(z, eph_pub + member_pub, info.encode())
    return aes256gcm_decrypt(wk, nonce, body, info.encode())


USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")


def refusal_of(conversation: dict, holder: dict) -> str | None:
    """An independent reading of the second edition's rules (steps 6-7) over a whole chain,
    in the order the Rust verifier (crypto::keyset, then the caller's proofs and unwrap)
    applies them. Answers the first refusal as a stable string, or None if accepted.

    Pass 1, epoch by epoch (sorted by number; they must run 0, 1, 2, ...), the rules that need
    no key: lengths, names, points, duplicates, keys = members, departures, who may sign, the
    removal rule, the statement (prev = the head of the epoch before) and, once the epoch
    passes, that nobody's name or keys differ from an earlier epoch. Pass 2, epoch by epoch:
    its keys_signature, then each departure it carries. Pass 3: for each epoch the holder holds
    a key in, the unwrapped key's length and commit."""
    cid, creator = conversation["id"], conversation["created_by"]
    epochs = sorted(conversation["epochs"], key=lambda e: e["epoch"])
    if not epochs:
        return "no_epochs"
    passed: list[dict] = []  # per epoch: what pass 2 and 3 need, and the signed member set
    card_of_id: dict[str, tuple] = {}  # member id -> (username, dh_public, sig_public) first seen
    id_of_name: dict[str, str] = {}  # username -> member id first seen

    for expected, e in enumerate(epochs):
        if e["epoch"] != expected:
            return "epoch_order"
        n = expected
        if len(unb64u(e["commit"])) != 32:
            return "length:commit"
        if len(unb64u(e["keys_signature"])) != 64:
            return "length:signature"
        members: dict[str, dict] = {}
        for m in e["members"]:
            name = m["username"]
            if not (3 <= len(name) <= 32 and set(name) <= USERNAME_CHARS):
                return "name"
            for field in ("dh_public", "sig_public"):
                point = unb64u(m[field])
                if len(point) != 65 or point[0] != 0x04:
                    return "public_key"
            if m["id"] in members:
                return "duplicate"
            members[m["id"]] = m
        keyed: set[str] = set()
        for k in e["keys"]:
            if len(unb64u(k["wrapped_key"])) != 125:
                return "length:wrapped key"
            if k["member_id"] in keyed:
                return "keys"
            keyed.add(k["member_id"])
        if not members or keyed != set(members):
            return "keys"
        before = passed[-1] if passed else None
        left: set[str] = set()
        for d in e.get("departures", []):
            if len(unb64u(d["signature"])) != 64:
                return "length:departure signature"
            who = d["member_id"]
            was_there = before is not None and who in before["members"]
            if who in left or who in members or not was_there:
                return "departure"
            left.add(who)
        proofs: list[tuple[bytes, str, bytes, str]] = []  # (key, signed text, signature, refusal)
        if before is None:
            if e["signer_id"] != creator or e["signer_id"] not in members:
                return "creator"
            signer_key, prev = unb64u(members[e["signer_id"]]["sig_public"]), GENESIS_PREV
        else:
            if e["signer_id"] not in before["members"]:
                return "signer"
            gone = [mid for mid in before["members"] if mid not in members and mid not in left]
            if gone and e["signer_id"] != creator:
                return "removal"
            signer_key, prev = unb64u(before["members"][e["signer_id"]]["sig_public"]), before["head"]
        statement = epoch_statement(cid, e, prev)
        if statement is None:
            return "keys"
        proofs.append((signer_key, statement, unb64u(e["keys_signature"]), "signature"))
        for d in e.get("departures", []):  # in the epoch's own order
            who = d["member_id"]
            proofs.append((unb64u(before["members"][who]["sig_public"]),
                           step7_leave_text(cid, n - 1, before["head"], who),
                           unb64u(d["signature"]), "departure_signature"))
        for m in e["members"]:
            card = (m["username"], unb64u(m["dh_public"]), unb64u(m["sig_public"]))
            if card_of_id.setdefault(m["id"], card) != card:
                return "changed"
            if id_of_name.setdefault(m["username"], m["id"]) != m["id"]:
                return "changed"
        passed.append({"epoch": n, "members": members, "head": hashlib.sha256(statement.encode()).digest(),
                       "proofs": proofs, "commit": unb64u(e["commit"]), "keys": e["keys"]})

    for p in passed:
        for key, text, signature, refusal in p["proofs"]:
            if not p1363_verify(key, text.encode(), signature):
                return refusal

    for p in passed:
        for k in p["keys"]:
            if k["member_id"] != holder["member_id"]:
                continue
            ck = _unwrap_ck(unb64u(k["wrapped_key"]), cid, p["epoch"], k["member_id"],
                            unb64u(holder["dh_private_pkcs8"]))
            if len(ck) != 32 or step3_commit(ck, cid, p["epoch"]) != p["commit"]:
                return "commit"
    return None


def signature_genuine(conversation: dict) -> bool | None:
    """Whether epoch 0's signature verifies over the statement its members and keys make, under
    the sig_public its member list gives the signer (None: no statement or no such key)."""
    e = conversation["epochs"][0]
    statement = epoch_statement(conversation["id"], e, GENESIS_PREV)
    signer = [m for m in e["members"] if m["id"] == e["signer_id"]]
    if statement is None or not signer:
        return None
    key = unb64u(signer[0]["sig_public"])
    if len(key) != 65 or key[0] != 0x04:
        return None
    return p1363_verify(key, statement.encode(), unb64u(e["keys_signature"]))


def compressed(public: bytes) -> bytes:
    """The 33-byte SEC1 compressed form of an uncompressed point: 0x02/0x03 (y's parity) || x."""
    assert len(public) == 65 and public[0] == 0x04
    return bytes([0x02 | (public[64] & 1)]) + public[1:33]


# ---------------------------------------------------------------------------
# Step 1, refused: prelogin answers a client must not act on
# ---------------------------------------------------------------------------

KDF_SALT_LEN = 16
KDF_ITERATIONS_MIN = 600_000
KDF_ITERATIONS_MAX = 10_000_000


def kdf_params_ok(salt_len: int, iterations: int) -> bool:
    """Spec step 1: the browser refuses kdf_iterations outside 600,000-10,000,000 and a kdf_salt
    that is not 16 bytes, before it derives or sends anything."""
    return salt_len == KDF_SALT_LEN and KDF_ITERATIONS_MIN <= iterations <= KDF_ITERATIONS_MAX


# ---------------------------------------------------------------------------
# The vector set
# ---------------------------------------------------------------------------

ALICE_ID = "0192f0c4-8a1e-7c3d-9b2a-4f5e6d7c8b9a"
BOB_ID = "0192f0c4-6b2d-7e4f-8a1b-2c3d4e5f6a7b"   # sorts BEFORE alice's id
CONV_ID = "0192f0c5-1d3e-7a40-b5c6-d7e8f9a0b1c2"
MSG1_ID = "0192f0c6-02a1-7b3c-8d4e-5f60718293a4"
MSG2_ID = "0192f0c6-3e4f-7051-9263-748596a7b8c9"
MSG3_ID = "0192f0c6-4a5b-7c6d-8e7f-8091a2b3c4d5"
MSG4_ID = "0192f0c6-5b6c-7d8e-9fa0-b1c2d3e4f506"
CAROL_ID = "0192f0c4-9f3a-7b2c-a1d0-3e4f5a6b7c8d"  # sorts AFTER alice's id

# Signatures made by the other implementations with alice's sig key (keypairs "alice.sig"), pasted
# here so that every direction is checked: (made_by, message, r || s, how it was made). The
# generator checks each with OpenSSL and its pure verifier; `cargo test` and the browser self test
# check every signature_verify entry.
CROSS_SIGNATURES: list[tuple[str, bytes, bytes, str]] = [
    # Made on 2026-11-30 by Chromium 156.0.8078.108 (Debian 12's /usr/bin/chromium, headless, launched
    # by Playwright with end2end/chromium.mjs's options from a throwaway script): on a page served for
    # an https origin (WebCrypto needs a secure context), crypto.subtle.importKey("pkcs8", alice.sig's
    # pkcs8, {name: "ECDSA", namedCurve: "P-256"}), then crypto.subtle.sign({name: "ECDSA", hash:
    # "SHA-256"}, key, UTF-8 of the message). WebCrypto's nonce is random: this s happens to be high.
    ("webcrypto-chromium", b"hush-v1 cross-direction signature|made by webcrypto-chromium",
     unb64u("ZoyEq5nfn33aH3jtoO1HbUGhcSTODb9J0ryYO3TNDLPzG76RvDSwA_ZpUUQQide52IEmCdgLdI2Axa4oQ5_46Q"),
     "Chromium 156 WebCrypto"),
    # Made on 2026-11-30 by the native twin, hush::crypto::native::sign (p256 0.13, RFC 6979 nonce, s not
    # normalised), over alice.sig's pkcs8 read from this file, in a throwaway test printing
    # b64(native::sign(&PrivateKey::from_pkcs8(pkcs8), message)). Deterministic: self_check confirms
    # this script's own RFC 6979 signer makes the same bytes.
    ("rust-p256", b"hush-v1 cross-direction signature|made by rust-p256",
     unb64u("3LKnEQUg_e8GE9fjgabXDV6bKRODEe3ukd2X0eZKlwFMTW9Se5cdq0FrRdPw4K0zkcBr_oY_j2OZDs9rnBARJg"),
     "the Rust twin (p256)"),
]

# Passwords: one with an "ﬁ" ligature, full-width letters and a decomposed "é"
# (e + U+0301), all of which NFKC changes; one plain ASCII; one with a
# non-breaking space and superscript two (also changed by NFKC).
ALICE_PASSWORD = "\ufb01nd \uff34\uff48\uff45 cafe\u0301 \u2615 key"
BOB_PASSWORD = "correct horse battery staple"
CAROL_PASSWORD = "p\u00e4ss\u00a0word\u00b2 \u2163"


def build_document() -> dict:
    _selftest_rfc6979()
    _selftest_libsignal()
    pairs = {name: KeyPair(name) for name in (
        "alice.dh", "alice.sig", "bob.dh", "bob.sig",
        "eph.conv.e0.alice", "eph.conv.e0.bob", "eph.conv.e7.alice",
        "carol.dh", "carol.sig", "eph.conv.short.alice", "eph.conv.short.bob",
    )}

    # Step 1
    p2k = [
        step1_password_to_keys("alice", ALICE_PASSWORD, fixed_bytes("kdf_salt|alice", 16), 600_000),
        step1_password_to_keys("bob", BOB_PASSWORD, fixed_bytes("kdf_salt|bob", 16), 1000),
        step1_password_to_keys("carol.9", CAROL_PASSWORD, fixed_bytes("kdf_salt|carol.9", 16), 1),
    ]
    kek = {e["username"]: unb64u(e["kek"]) for e in p2k}

    # Step 2
    identity = [
        step2_wrap_identity_key(user, which, kek[user], pairs[f"{user}.{which}"].pkcs8,
                                fixed_bytes(f"identity nonce|{user}|{which}", 12))
        for user in ("alice", "bob") for which in ("dh", "sig")
    ]

    # Step 3: a two-member conversation at epoch 0, plus one epoch-7 wrap.
    ck0 = fixed_bytes(f"ck|{CONV_ID}|0", 32)
    ck7 = fixed_bytes(f"ck|{CONV_ID}|7", 32)
    members = [("alice", ALICE_ID), ("bob", BOB_ID)]
    wraps = [
        step3_wrap_content_key(CONV_ID, 0, mid, pairs[f"{user}.dh"], pairs[f"eph.conv.e0.{user}"],
                               ck0, fixed_bytes(f"wrap nonce|{CONV_ID}|0|{mid}", 12))
        for user, mid in members
    ]
    wraps.append(step3_wrap_content_key(CONV_ID, 7, ALICE_ID, pairs["alice.dh"], pairs["eph.conv.e7.alice"],
                                        ck7, fixed_bytes(f"wrap nonce|{CONV_ID}|7|{ALICE_ID}", 12)))

    commit = step3_commit(ck0, CONV_ID, 0)
    member_rows = [  # deliberately NOT in id order (bob's id sorts first)
        {"member_id": mid, "username": user, "dh_public": pairs[f"{user}.dh"].public, "sig_public": pairs[f"{user}.sig"].public,
         "wrapped_key": unb64u(w["wrapped_key"])}
        for (user, mid), w in zip(members, wraps[:2])
    ]
    assert [m["member_id"] for m in member_rows] != sorted(m["member_id"] for m in member_rows)
    signed = step6_statement(CONV_ID, 0, ALICE_ID, commit, GENESIS_PREV, member_rows, [])
    head = hashlib.sha256(signed.encode()).digest()
    keys_sig = [{
        "conversation_id": CONV_ID,
        "epoch": 0,
        "signer_id": ALICE_ID,
        "signer_sig_pkcs8": b64u(pairs["alice.sig"].pkcs8),
        "signer_sig_public": b64u(pairs["alice.sig"].public),
        "ck": b64u(ck0),
        "commit": b64u(commit),
        "prev": b64u(GENESIS_PREV),
        "key_root": b64u(step6_key_root(member_rows)),
        "members": [{"member_id": m["member_id"], "username": m["username"], "dh_public": b64u(m["dh_public"]),
                     "sig_public": b64u(m["sig_public"]), "wrapped_key": b64u(m["wrapped_key"])}
                    for m in member_rows],
        "statement": signed,
        "head": b64u(head),
        "signature": b64u(p1363_sign(pairs["alice.sig"], signed.encode())),
    }]

    # Step 4
    seals = [
        step4_seal_message(CONV_ID, 0, head, MSG1_ID, ALICE_ID, pairs["alice.sig"], ck0,
                           fixed_bytes(f"msg nonce|{MSG1_ID}", 12),
                           message_plaintext("Grüße aus Zürich — 你好 🔐👋🏽", "2026-11-25T22:10:00Z")),
        step4_seal_message(CONV_ID, 0, head, MSG2_ID, BOB_ID, pairs["bob.sig"], ck0,
                           fixed_bytes(f"msg nonce|{MSG2_ID}", 12),
                           message_plaintext('She said "hi"\nand left \\o/', "2026-11-25T22:11:30Z")),
        step4_seal_message(CONV_ID, 0, head, MSG3_ID, BOB_ID, pairs["bob.sig"], ck0,
                           fixed_bytes(f"msg nonce|{MSG3_ID}", 12),
                           leave_plaintext(fixed_long("leave signature|bob", 64), "2026-11-25T22:12:00Z")),
        step4_seal_message(CONV_ID, 0, head, MSG4_ID, ALICE_ID, pairs["alice.sig"], ck0,
                           fixed_bytes(f"msg nonce|{MSG4_ID}", 12),
                           message_plaintext("Long. " * 60, "2026-11-25T22:13:00Z")),
    ]

    # Signature verify-only vectors: Python's own (RFC 6979), then one from each other signer.
    msg = b"hush-v1 signature vector"
    raw = p1363_sign(pairs["alice.sig"], msg)
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    low = r + min(s, N - s).to_bytes(32, "big")
    high = r + max(s, N - s).to_bytes(32, "big")
    flipped = bytearray(low)
    flipped[40] ^= 0x01
    a_pub, b_pub = pairs["alice.sig"].public, pairs["bob.sig"].public
    PY = "python-rfc6979"
    sigv = [
        {"public": b64u(a_pub), "message": b64u(msg), "signature": b64u(low), "valid": True,
         "high_s": False, "made_by": PY, "comment": "valid, low-S"},
        {"public": b64u(a_pub), "message": b64u(msg), "signature": b64u(high), "valid": True,
         "high_s": True, "made_by": PY, "comment": "valid, high-S (s replaced by n - s); plain ECDSA must accept it"},
        {"public": b64u(a_pub), "message": b64u(msg), "signature": b64u(bytes(flipped)), "valid": False,
         "high_s": False, "made_by": PY, "comment": "low-S signature with one bit of s flipped"},
        {"public": b64u(a_pub), "message": b64u(msg + b"!"), "signature": b64u(low), "valid": False,
         "high_s": False, "made_by": PY, "comment": "valid signature checked against a different message"},
        {"public": b64u(b_pub), "message": b64u(msg), "signature": b64u(low), "valid": False,
         "high_s": False, "made_by": PY, "comment": "valid signature checked under another public key"},
    ]
    for made_by, message, signature, how in CROSS_SIGNATURES:
        high_s = int.from_bytes(signature[32:], "big") > N // 2
        sigv.append({"public": b64u(a_pub), "message": b64u(message), "signature": b64u(signature),
                     "valid": True, "high_s": high_s, "made_by": made_by,
                     "comment": f"valid, {'high' if high_s else 'low'}-S, made by {how}"})
        flipped = bytearray(signature)
        flipped[63] ^= 0x01
        sigv.append({"public": b64u(a_pub), "message": b64u(message), "signature": b64u(bytes(flipped)),
                     "valid": False, "high_s": high_s, "made_by": made_by,
                     "comment": f"the signature made by {how}, with the last bit of s flipped"})

    # AEAD negative vectors, derived from message_seal[0].
    m0 = seals[0]
    ct = bytearray(unb64u(m0["ciphertext"]))
    ct[-1] ^= 0x80
    aead_neg = [
        {"key": m0["ck"], "nonce": m0["nonce"], "aad": m0["aad"], "ciphertext": b64u(bytes(ct)),
         "comment": "wrong tag"},
        {"key": m0["ck"], "nonce": m0["nonce"], "aad": message_aad(CONV_ID, 0, head, MSG1_ID, BOB_ID),
         "ciphertext": m0["ciphertext"], "comment": "wrong aad"},
        {"key": b64u(ck7), "nonce": m0["nonce"], "aad": m0["aad"], "ciphertext": m0["ciphertext"],
         "comment": "wrong key"},
    ]

    # Step 8: alice's contact book at versions 1, 2 and 3 (each naming the sealed copy before
    # it), and bob's at version 1. mk comes from the password_to_keys entries.
    mks = {e["username"]: unb64u(e["mk"]) for e in p2k}
    users = {
        "alice": public_user(ALICE_ID, "alice", pairs["alice.dh"], pairs["alice.sig"]),
        "bob": public_user(BOB_ID, "bob", pairs["bob.dh"], pairs["bob.sig"]),
        "carol.9": public_user(CAROL_ID, "carol.9", pairs["carol.dh"], pairs["carol.sig"]),
    }
    books = []
    for username, user_id, version, contacts in (
        ("alice", ALICE_ID, 1, [("bob", False)]),
        ("alice", ALICE_ID, 2, [("bob", False), ("carol.9", False)]),
        ("alice", ALICE_ID, 3, [("carol.9", False), ("bob", True)]),
        ("bob", BOB_ID, 1, [("carol.9", True), ("alice", False)]),
    ):
        prev = ""
        if version > 1:
            before = books[-1]
            assert (before["user_id"], before["version"]) == (user_id, version - 1)
            prev = b64u(hashlib.sha256(unb64u(before["sealed"])).digest())
        plaintext = book_plaintext(prev, [(users[name], verified) for name, verified in contacts])
        books.append(step8_seal_book(username, user_id, mks[username], version,
                                     fixed_bytes(f"contacts nonce|{user_id}|{version}", 12), plaintext))

    # Step 9: alice and bob as the app computes them, and libsignal's published vector.
    def fingerprint_input(name: str, user_id: str) -> tuple[bytes, bytes]:
        return pairs[f"{name}.sig"].public + pairs[f"{name}.dh"].public, uuid.UUID(user_id).bytes

    safety = [
        step9_safety_number([fingerprint_input("alice", ALICE_ID), fingerprint_input("bob", BOB_ID)],
                            "alice and bob: key = sig_public || dh_public, id = the 16 bytes of the user id",
                            [users["alice"], users["bob"]]),
        step9_safety_number(list(zip(LIBSIGNAL_KEYS, LIBSIGNAL_IDS)),
                            "libsignal's published fingerprint vector (version 0), its own keys and phone "
                            "numbers as key and id; its digits are libsignal's, its qr is this suite's",
                            None),
    ]
    assert safety[1]["digits"] == LIBSIGNAL_DIGITS

    # Steps 6-7 refused: whole conversations derived from keys_signature[0], each with the
    # first rule that refuses it, seen by bob (who holds a wrapped key).
    genuine_members = [users["alice"], users["bob"]]  # unsorted, as in keys_signature
    genuine_keys = [{"member_id": m["member_id"], "wrapped_key": b64u(m["wrapped_key"])} for m in member_rows]
    base = wire_conversation(genuine_members, genuine_keys, commit, ALICE_ID, None, unb64u(keys_sig[0]["signature"]))
    assert epoch_statement(CONV_ID, base["epochs"][0], GENESIS_PREV) == signed

    def edited(change) -> dict:
        conv = json.loads(json.dumps(base))
        change(conv["epochs"][0])
        return conv

    def set_commit(e):
        e["commit"] = b64u(step3_commit(ck7, CONV_ID, 0))

    def swap_names(e):
        e["members"][0]["username"], e["members"][1]["username"] = (e["members"][1]["username"],
                                                                     e["members"][0]["username"])

    def drop_bob(e):
        e["members"] = [m for m in e["members"] if m["id"] != BOB_ID]

    def add_carol(e):
        e["members"].append(users["carol.9"])

    def key_for_carol(e):
        e["keys"].append({"member_id": CAROL_ID, "wrapped_key": e["keys"][0]["wrapped_key"]})

    compressed_bob = dict(users["bob"], sig_public=b64u(compressed(pairs["bob.sig"].public)))
    ck16 = fixed_bytes(f"ck16|{CONV_ID}|0", 16)
    short_keys = [
        {"member_id": mid,
         "wrapped_key": step3_wrap_content_key(CONV_ID, 0, mid, pairs[f"{user}.dh"], pairs[f"eph.conv.short.{user}"],
                                               ck16, fixed_bytes(f"wrap16 nonce|{CONV_ID}|0|{mid}", 12))["wrapped_key"]}
        for user, mid in members
    ]
    dropped = edited(drop_bob)["epochs"][0]
    swapped_signer = edited(lambda e: e.update(signer_id=BOB_ID))["epochs"][0]
    negatives = [
        ("genuine", base, None,
         "the genuine conversation of keys_signature[0]: accepted, and bob's key unwraps to the committed ck"),
        ("commit changed", edited(set_commit), "signature",
         "epoch 0's commit replaced (a statement field): the signature no longer verifies"),
        ("names swapped", edited(swap_names), "signature",
         "alice's and bob's usernames swapped in the signed member list: the signature no longer verifies"),
        ("compressed public key",
         wire_conversation([users["alice"], compressed_bob], genuine_keys, commit, ALICE_ID, pairs["alice.sig"]),
         "public_key",
         "bob's sig_public as a 33-byte compressed point (the statement built with it and signed by alice, "
         "so the signature is genuine): refused by the point rule before any string is built"),
        ("16-byte content key",
         wire_conversation(genuine_members, short_keys, step3_commit(ck16, CONV_ID, 0), ALICE_ID,
                           pairs["alice.sig"]),
         "length:wrapped key",
         "a 16-byte ck wrapped for both members (109-byte wrapped keys) and committed and signed by alice, so "
         "the signature is genuine: refused by the length rule on the wrapped key, before any signature is "
         "checked; Checked::confirm is never reached (it, and the unwrap itself, would refuse a 16-byte ck too)"),
        ("member missing",
         wire_conversation(dropped["members"], dropped["keys"], commit, ALICE_ID, pairs["alice.sig"]),
         "keys",
         "bob left out of the member list but his wrapped key kept (the statement of what remains signed by "
         "alice): the keys do not name exactly the members"),
        ("member extra", edited(add_carol), "keys",
         "carol added to the member list without a wrapped key (no statement can be built)"),
        ("key for no member", edited(key_for_carol), "keys",
         "a wrapped key for carol, who is not a member (the statement ignores it, so the signature still "
         "verifies): the keys do not name exactly the members"),
        ("wrong signer",
         wire_conversation(swapped_signer["members"], swapped_signer["keys"], commit, BOB_ID, pairs["bob.sig"]),
         "creator",
         "epoch 0 signed (genuinely) by bob, a member but not created_by"),
        ("commit of another key",
         wire_conversation(genuine_members, genuine_keys, step3_commit(ck7, CONV_ID, 0), ALICE_ID,
                           pairs["alice.sig"]),
         "commit",
         "alice signs a commit to another ck than the one she wrapped: the chain and its signature pass, and "
         "bob's unwrapped ck does not match the commit (Checked::confirm)"),
    ]
    holder = {"member_id": BOB_ID, "dh_private_pkcs8": b64u(pairs["bob.dh"].pkcs8)}
    keyset_neg = [
        {"case": case, "comment": comment, "refusal": refusal, "signature_genuine": signature_genuine(conv),
         "holder": holder, "conversation": conv}
        for case, conv, refusal, comment in negatives
    ]

    # Steps 6-7 over many epochs: a genuine chain of the same conversation, in which a member
    # joins, leaves (her signed departure carried by the next epoch) and is removed by the creator.
    # Epoch 0 is keys_signature[0] itself. Then, whole conversations built on it that must be
    # refused, each for the first rule that refuses it (the same entry schema as above).
    people = {"alice": (ALICE_ID, users["alice"]), "bob": (BOB_ID, users["bob"]),
              "carol": (CAROL_ID, users["carol.9"])}
    name_of = {mid: who for who, (mid, _) in people.items()}
    chain_ck = {n: fixed_bytes(f"ck|{CONV_ID}|{n}", 32) for n in range(4)}
    assert chain_ck[0] == ck0

    def chain_wraps(n: int, who: list[str]) -> list[dict]:
        """ck_n wrapped for each of `who` (epoch 0's are content_key_wrap's own)."""
        return [step3_wrap_content_key(CONV_ID, n, people[w][0], pairs[f"{w}.dh"],
                                       pairs[f"eph.conv.e0.{w}"] if n == 0 else KeyPair(f"eph.conv.e{n}.{w}"),
                                       chain_ck[n], fixed_bytes(f"wrap nonce|{CONV_ID}|{n}|{people[w][0]}", 12))
                for w in who]

    def chain_epoch(n: int, signer: str, who: list[str], prev: bytes, departures: list[dict] | None = None,
                    commit_ck: bytes | None = None, signed_prev: bytes | None = None, sign_as: str | None = None,
                    member_edit=None) -> dict:
        """Wire epoch n (model::conversation::Epoch's fields, in its order), keys_signature by
        `sign_as` (default: the signer) over statement_n with `signed_prev` (default: prev)."""
        epoch = {"epoch": n, "signer_id": people[signer][0],
                 "commit": b64u(step3_commit(commit_ck or chain_ck[n], CONV_ID, n)),
                 "members": [dict(people[w][1]) for w in who],
                 "keys": [{"member_id": w["member_id"], "wrapped_key": w["wrapped_key"]} for w in chain_wraps(n, who)],
                 "keys_signature": "", "departures": departures or []}
        if member_edit is not None:
            member_edit(epoch["members"])
        statement = epoch_statement(CONV_ID, epoch, prev if signed_prev is None else signed_prev)
        assert statement is not None
        epoch["keys_signature"] = b64u(p1363_sign(pairs[f"{sign_as or signer}.sig"], statement.encode()))
        return epoch

    def head_of(epoch: dict, prev: bytes) -> bytes:
        return hashlib.sha256(epoch_statement(CONV_ID, epoch, prev).encode()).digest()

    def departure(n_left: int, head_left: bytes, who: str, signed_by: str | None = None) -> dict:
        """`who`'s departure from epoch n_left, signed by `signed_by` (default: `who`)."""
        text = step7_leave_text(CONV_ID, n_left, head_left, people[who][0])
        return {"member_id": people[who][0],
                "signature": b64u(p1363_sign(pairs[f"{signed_by or who}.sig"], text.encode()))}

    # The genuine chain. Members are listed unsorted (bob's id sorts first, carol's last).
    e0 = chain_epoch(0, "alice", ["alice", "bob"], GENESIS_PREV)
    assert e0["keys_signature"] == keys_sig[0]["signature"] and e0["keys"] == genuine_keys
    h0 = head_of(e0, GENESIS_PREV)
    assert h0 == head
    e1 = chain_epoch(1, "bob", ["alice", "bob", "carol"], h0)  # bob (any member) adds carol
    h1 = head_of(e1, h0)
    carol_left = departure(1, h1, "carol")
    e2 = chain_epoch(2, "bob", ["alice", "bob"], h1, [carol_left])  # carol left; bob rotates
    h2 = head_of(e2, h1)
    e3 = chain_epoch(3, "alice", ["alice"], h2)  # the creator removes bob (no departure needed)
    h3 = head_of(e3, h2)
    genuine_chain = [e0, e1, e2, e3]

    def chain_conversation(epochs: list[dict]) -> dict:
        """A conversation as model::conversation::Conversation serialises it, pending included;
        its access list is the last epoch's members."""
        return {"id": CONV_ID, "title": "Lunch on Thursday", "created_by": ALICE_ID,
                "created_at": "2026-11-25T22:00:00.000Z", "last_seq": 0,
                "members": [dict(m) for m in epochs[-1]["members"]],
                "epochs": json.loads(json.dumps(epochs)), "pending": []}

    chain_detail = []
    heads = [h0, h1, h2, h3]
    for ep, prev in zip(genuine_chain, [GENESIS_PREV, h0, h1, h2]):
        n = ep["epoch"]
        before = genuine_chain[n - 1] if n else ep
        signer_public = next(m["sig_public"] for m in before["members"] if m["id"] == ep["signer_id"])
        rows = []
        for m, w in zip(ep["members"], chain_wraps(n, [name_of[m["id"]] for m in ep["members"]])):
            assert w["wrapped_key"] == next(k["wrapped_key"] for k in ep["keys"] if k["member_id"] == m["id"])
            rows.append({"member_id": m["id"], "username": m["username"], "dh_public": m["dh_public"],
                         "sig_public": m["sig_public"], "ephemeral_private_scalar": w["ephemeral_private_scalar"],
                         "nonce": w["nonce"], "wrapped_key": w["wrapped_key"]})
        deps = []
        for d in ep["departures"]:
            deps.append({"member_id": d["member_id"], "epoch_left": n - 1, "head_left": b64u(heads[n - 1]),
                         "signed": step7_leave_text(CONV_ID, n - 1, heads[n - 1], d["member_id"]),
                         "sig_public": next(m["sig_public"] for m in before["members"] if m["id"] == d["member_id"]),
                         "signature": d["signature"]})
        statement = epoch_statement(CONV_ID, ep, prev)
        chain_detail.append({
            "epoch": n, "signer_id": ep["signer_id"], "signer_sig_public": signer_public,
            "ck": b64u(chain_ck[n]), "commit": ep["commit"], "prev": b64u(prev),
            "key_root": b64u(step6_key_root([{"member_id": r["member_id"], "wrapped_key": unb64u(r["wrapped_key"])}
                                             for r in rows])),
            "members": rows,
            "departures": deps, "statement": statement, "head": b64u(heads[n]),
            "signature": ep["keys_signature"]})
    keys_chain = [{
        "comment": ("alice creates the conversation with bob (epoch 0: keys_signature[0]); bob adds carol "
                    "(epoch 1); carol leaves epoch 1 and bob posts epoch 2 carrying her signed departure; "
                    "alice, the creator, removes bob (epoch 3, no departure needed). The same chain on the "
                    "wire is keys_signature_negative's case \"chain: genuine\"."),
        "conversation_id": CONV_ID,
        "created_by": ALICE_ID,
        "epochs": chain_detail,
    }]

    def renamed_bob(members: list[dict]) -> None:
        next(m for m in members if m["id"] == BOB_ID)["username"] = "bobby"

    alice_left_1 = departure(1, h1, "alice")
    e2_by_alice = chain_epoch(2, "alice", ["alice", "bob"], h1, [carol_left])
    chain_cases = [
        ("chain: genuine", genuine_chain, "alice", None,
         "keys_chain as the wire carries it: four epochs, a join, a signed departure and a removal by the "
         "creator; accepted, and alice's key in every epoch unwraps to its committed ck"),
        ("chain: genuine, seen by carol", genuine_chain, "carol", None,
         "the same chain seen by carol, who holds a key in epoch 1 only: she checks every statement, "
         "signature and departure from epoch 0, and unwraps epoch 1's key alone"),
        ("chain: removal by non-creator",
         [e0, e1, chain_epoch(2, "bob", ["alice", "bob"], h1)], "alice", "removal",
         "bob (not the creator) signs an epoch 2 without carol and without her departure: the removal rule"),
        ("chain: signer not in previous epoch",
         [e0, chain_epoch(1, "carol", ["alice", "bob", "carol"], h0)], "alice", "signer",
         "epoch 1 adding carol is signed (genuinely) by carol, who is not a member of epoch 0"),
        ("chain: wrong prev",
         [e0, chain_epoch(1, "bob", ["alice", "bob", "carol"], h0, signed_prev=GENESIS_PREV)], "alice",
         "signature",
         "bob signs epoch 1's statement with prev = 32 zero bytes instead of head_0: the verifier builds the "
         "statement with head_0, and the signature does not verify over it"),
        ("chain: departure forged",
         [e0, e1, chain_epoch(2, "bob", ["alice", "bob"], h1, [departure(1, h1, "carol", signed_by="bob")])],
         "alice", "departure_signature",
         "epoch 2 (genuinely signed by bob) carries carol's departure, but bob signed the departure text with "
         "his own key: it does not verify under carol's sig_public in epoch 1"),
        ("chain: departure signed for another epoch",
         [e0, e1, e2, chain_epoch(3, "alice", ["alice"], h2, [departure(1, h1, "bob")])],
         "alice", "departure_signature",
         "epoch 3 (genuinely signed by alice) carries a departure bob signed for epoch 1 (its number and "
         "head), not for epoch 2, the one he leaves"),
        ("chain: departure for a member still present",
         [e0, e1, chain_epoch(2, "bob", ["alice", "bob"], h1, [carol_left, alice_left_1])], "alice",
         "departure",
         "epoch 2 carries carol's genuine departure and alice's (genuinely signed by alice) while alice is "
         "still a member of epoch 2"),
        ("chain: departure twice",
         [e0, e1, chain_epoch(2, "bob", ["alice", "bob"], h1, [carol_left, carol_left])], "alice",
         "departure",
         "epoch 2 carries carol's genuine departure twice"),
        ("chain: departure stripped",
         [e0, e1, dict(e2, departures=[])], "alice", "removal",
         "the server drops carol's departure from epoch 2, which bob (not the creator) signed: carol is "
         "missing without a departure, so the removal rule refuses before any signature is checked"),
        ("chain: departure stripped from the creator's epoch",
         [e0, e1, dict(e2_by_alice, departures=[])], "alice", "signature",
         "alice (the creator, who may remove) signs epoch 2 carrying carol's departure and the server drops "
         "it: the removal rule lets it pass, but the statement without \"left:\" is not what alice signed"),
        ("chain: departure in epoch 0",
         [chain_epoch(0, "alice", ["alice", "bob"], GENESIS_PREV, [carol_left])], "alice", "departure",
         "epoch 0 carrying carol's departure (from keys_chain's epoch 1), its statement with it signed by "
         "alice, so the signature is genuine: there is no epoch before it to leave"),
        ("chain: epoch gap",
         [e0, e2, e3], "alice", "epoch_order",
         "the genuine chain with epoch 1 left out: epochs must run 0, 1, 2, ..."),
        ("chain: member renamed in a later epoch",
         [e0, chain_epoch(1, "bob", ["alice", "bob", "carol"], h0, member_edit=renamed_bob)], "alice",
         "changed",
         "epoch 1 (genuinely signed by bob) names bob \"bobby\": a member's name and keys are the same in "
         "every epoch"),
        ("chain: holder's key in epoch 1 does not match commit",
         [e0, chain_epoch(1, "bob", ["alice", "bob", "carol"], h0,
                          commit_ck=fixed_bytes(f"ck other|{CONV_ID}|1", 32))], "alice", "commit",
         "bob wraps ck_1 to everyone but signs a commit to another key: the chain and its signatures pass, "
         "and alice's unwrapped ck_1 does not match epoch 1's commit (Checked::confirm)"),
    ]
    for case, epochs, who, refusal, comment in chain_cases:
        conv = chain_conversation(epochs)
        keyset_neg.append({
            "case": case, "comment": comment, "refusal": refusal, "signature_genuine": signature_genuine(conv),
            "holder": {"member_id": people[who][0], "dh_private_pkcs8": b64u(pairs[f"{who}.dh"].pkcs8)},
            "conversation": conv})

    # Step 1 refused: prelogin answers ({kdf_salt, kdf_iterations}) and whether a client may use them.
    def answer(salt_len: int, iterations: int, comment: str) -> dict:
        return {"answer": {"kdf_salt": b64u(fixed_bytes("kdf_salt|alice", 32)[:salt_len]),
                           "kdf_iterations": iterations},
                "accept": kdf_params_ok(salt_len, iterations), "comment": comment}

    kdf_neg = [
        answer(16, 600_000, "the minimum: accepted"),
        answer(16, 10_000_000, "the maximum: accepted"),
        answer(16, 0, "zero iterations"),
        answer(16, 1, "one iteration"),
        answer(16, 599_999, "one below the minimum"),
        answer(16, 10_000_001, "one above the maximum"),
        answer(16, 4_294_967_295, "the largest u32"),
        answer(15, 600_000, "a 15-byte salt"),
        answer(17, 600_000, "a 17-byte salt"),
        answer(0, 600_000, "an empty salt"),
    ]

    return {
        "suite": SUITE,
        "note": (
            "Test vectors for the hush-v1 crypto suite (DESIGN.md, steps 1-4 and the second edition's "
            "steps 6-9: statement, head and message aad; a chain of epochs with a departure; whole "
            "conversations the key-set verifier must refuse, with the refusal; the contact book; safety "
            "numbers), generated by "
            "tools/vectors/gen_hush_v1.py. Bytes are base64url without padding; text is JSON strings "
            "(UTF-8 once decoded; non-ASCII is \\u-escaped in this file so no tool can re-normalise it). "
            "Every random input is fixed. Signatures are RFC 6979 deterministic ECDSA-P256-SHA256, "
            "r||s, s not normalised; WebCrypto signs randomly, so signature fields are verify-only "
            "(a deterministic RFC 6979 signer without low-S normalisation reproduces them exactly). "
            "signature_verify also holds signatures made by Chromium's WebCrypto and by the Rust twin "
            "(made_by). keys_signature.members is deliberately not sorted: sort by id bytes before "
            "building the statement. AES-GCM ciphertexts carry the 16-byte tag at the end. "
            "contact_book.plaintext is the JSON the app writes (compact; prev, contacts; contacts in "
            "ascending id order); its prev is b64u(SHA-256) of the entry before's sealed bytes. "
            "keys_chain is a genuine four-epoch chain of the same conversation (epoch 0 is "
            "keys_signature[0]; bob adds carol; carol leaves and epoch 2 carries her signed departure; "
            "alice, the creator, removes bob): per epoch ck, commit, prev, key_root, members with their "
            "wraps, statement, head, signature, and each departure's signed text and signature. "
            "key_tree holds key trees (step 6) of several sizes: per leaf (in the tree's order, "
            "ascending id) member_id, wrapped_key, leaf and path (bottom up, nodes concatenated), "
            "and the root. "
            "keys_signature_negative.refusal names the first rule that refuses (null: accepted) as "
            "seen by holder: signature, public_key, length:<field>, keys, creator, signer, removal, "
            "departure, departure_signature, epoch_order, changed, commit. Cases named \"chain: ...\" "
            "are many-epoch conversations built on keys_chain, with departures in every epoch and "
            "pending; signature_genuine always describes epoch 0 alone. "
            "kdf_params_negative.answer is a prelogin answer; accept says whether a client may use it."
        ),
        "password_to_keys": p2k,
        "keypairs": [kp.to_json() for kp in pairs.values()],
        "identity_wrap": identity,
        "content_key_wrap": wraps,
        "keys_signature": keys_sig,
        "message_seal": seals,
        "signature_verify": sigv,
        "aead_negative": aead_neg,
        "contact_book": books,
        "safety_number": safety,
        "keys_chain": keys_chain,
        "key_tree": key_trees(),
        "padding": paddings(),
        "keys_signature_negative": keyset_neg,
        "kdf_params_negative": kdf_neg,
    }


def key_trees() -> list[dict]:
    """Key trees (step 6) of several sizes over fixed member ids and wrapped keys, listed in the
    tree's order: each leaf, the root, and each leaf's path."""
    trees = []
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 9, 13]:
        ids = sorted(str(uuid.UUID(bytes=fixed_bytes(f"key tree member|{n}|{i}", 16), version=4))
                     for i in range(n))
        keys = [b"".join(fixed_bytes(f"key tree wrapped key|{n}|{i}|{part}", 25) for part in range(5))
                for i in range(n)]
        leaves = [key_tree_leaf(mid, wk) for mid, wk in zip(ids, keys)]
        trees.append({
            "size": n,
            "leaves": [{"member_id": mid, "wrapped_key": b64u(wk), "leaf": b64u(leaf),
                        "path": b64u(key_tree_path(m, leaves))}
                       for m, (mid, wk, leaf) in enumerate(zip(ids, keys, leaves))],
            "root": b64u(key_tree_root(leaves)),
        })
    return trees


# ---------------------------------------------------------------------------
# Self-check: re-read the document as a consumer would and verify everything
# ---------------------------------------------------------------------------


def _load_pkcs8(pkcs8: bytes, public: bytes) -> ec.EllipticCurvePrivateKey:
    assert len(pkcs8) == 138, "PKCS#8 must be 138 bytes"
    key = serialization.load_der_private_key(pkcs8, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    _check_public(public)
    assert pkcs8[-65:] == public, "embedded public key differs"
    assert key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) == public
    return key


def _check_public(public: bytes) -> None:
    assert len(public) == 65 and public[0] == 0x04, "public keys are 65 bytes starting 0x04"
    _parse_point(public)


def self_check(doc: dict) -> None:
    assert doc["suite"] == SUITE
    check_key_trees(doc)

    for e in doc["password_to_keys"]:
        assert unicodedata.normalize("NFKC", e["password"]) == e["password_nfkc"]
        kdf_salt = unb64u(e["kdf_salt"])
        assert len(kdf_salt) == 16
        again = step1_password_to_keys(e["username"], e["password"], kdf_salt, e["kdf_iterations"])
        assert again == e
        for f in ("salt", "mk", "auth_key", "kek"):
            assert len(unb64u(e[f])) == 32
    assert any(e["password"] != e["password_nfkc"] for e in doc["password_to_keys"])
    assert any(e["password"].isascii() for e in doc["password_to_keys"])
    assert any(e["kdf_iterations"] == 600_000 for e in doc["password_to_keys"])
    keks = {e["username"]: e["kek"] for e in doc["password_to_keys"]}

    for kp in doc["keypairs"]:
        scalar, public = unb64u(kp["private_scalar"]), unb64u(kp["public"])
        assert len(scalar) == 32
        key = _load_pkcs8(unb64u(kp["pkcs8"]), public)
        assert key.private_numbers().private_value == int.from_bytes(scalar, "big")
        assert unb64u(kp["pkcs8"]) == chromium_pkcs8(scalar, public)
    publics = {kp["public"] for kp in doc["keypairs"]}

    for e in doc["identity_wrap"]:
        kek, wrapped, nonce = unb64u(e["kek"]), unb64u(e["wrapped"]), unb64u(e["nonce"])
        assert e["kek"] == keks[e["username"]] and len(kek) == 32 and len(nonce) == 12
        assert e["aad"] == f"hush-v1|identity|{e['username']}|{e['which']}"
        assert wrapped[:12] == nonce
        pkcs8 = aes256gcm_decrypt(kek, wrapped[:12], wrapped[12:], e["aad"].encode())
        assert pkcs8 == unb64u(e["pkcs8"])
        assert b64u(pkcs8[-65:]) in publics

    for e in doc["content_key_wrap"]:
        wrapped = unb64u(e["wrapped_key"])
        eph_pub, nonce, body = wrapped[:65], wrapped[65:77], wrapped[77:]
        member_pub = unb64u(e["member_dh_public"])
        _check_public(eph_pub)
        assert eph_pub == unb64u(e["ephemeral_public"]) and nonce == unb64u(e["nonce"])
        eph = ec.derive_private_key(int.from_bytes(unb64u(e["ephemeral_private_scalar"]), "big"), ec.SECP256R1())
        assert eph.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) == eph_pub
        assert e["info"] == f"hush-v1|wrap|{e['conversation_id']}|{e['epoch']}|{e['member_id']}"
        # Unwrap as the member does: z = ECDH(member.private, E.public).
        member = _load_pkcs8(unb64u(e["member_dh_private_pkcs8"]), member_pub)
        z = member.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), eph_pub))
        assert z == unb64u(e["z"]) and len(z) == 32
        assert unb64u(e["hkdf_salt"]) == eph_pub + member_pub and len(eph_pub + member_pub) == 130
        wk = hkdf_sha256(z, eph_pub + member_pub, e["info"].encode())
        assert wk == unb64u(e["wk"])
        ck = aes256gcm_decrypt(wk, nonce, body, e["info"].encode())
        assert ck == unb64u(e["ck"]) and len(ck) == 32
        assert len(body) == 32 + 16
    assert any(e["epoch"] == 7 for e in doc["content_key_wrap"])

    wraps = {(e["conversation_id"], e["epoch"], e["member_id"]): e for e in doc["content_key_wrap"]}
    for e in doc["keys_signature"]:
        ck = unb64u(e["ck"])
        commit = step3_commit(ck, e["conversation_id"], e["epoch"])
        assert commit == unb64u(e["commit"]) and len(commit) == 32
        ids = [m["member_id"] for m in e["members"]]
        assert ids != sorted(ids), "members must be listed unsorted"
        assert e["signer_id"] in ids
        assert e["prev"] == b64u(GENESIS_PREV)
        root = _levels([(m["member_id"], unb64u(m["wrapped_key"])) for m in e["members"]])[-1][0]
        assert b64u(root) == e["key_root"]
        text = (f"hush-v1|keys2|{e['conversation_id']}|{e['epoch']}|{e['signer_id']}|commit:{e['commit']}|"
                f"prev:{e['prev']}|keys:{e['key_root']}|")
        for m in sorted(e["members"], key=lambda m: m["member_id"].encode()):
            _check_public(unb64u(m["dh_public"]))
            _check_public(unb64u(m["sig_public"]))
            text += f"{m['member_id']}:{m['username']}:{m['dh_public']}:{m['sig_public']};"
            # The wrapped key in the set unwraps (content_key_wrap entry) to this ck.
            w = wraps[(e["conversation_id"], e["epoch"], m["member_id"])]
            assert w["wrapped_key"] == m["wrapped_key"] and w["ck"] == e["ck"]
            assert w["member_dh_public"] == m["dh_public"]
        assert text == e["statement"]
        assert e["head"] == b64u(hashlib.sha256(text.encode()).digest())
        _load_pkcs8(unb64u(e["signer_sig_pkcs8"]), unb64u(e["signer_sig_public"]))
        sig = unb64u(e["signature"])
        assert len(sig) == 64 and p1363_verify(unb64u(e["signer_sig_public"]), text.encode(), sig)

    heads = {e["head"] for e in doc["keys_signature"]}
    for e in doc["message_seal"]:
        ck, nonce, ct = unb64u(e["ck"]), unb64u(e["nonce"]), unb64u(e["ciphertext"])
        assert len(ck) == 32 and len(nonce) == 12
        assert e["head"] in heads
        assert e["aad"] == (f"hush-v1|msg|{e['conversation_id']}|{e['epoch']}|{e['head']}|"
                            f"{e['message_id']}|{e['sender_id']}")
        padded = aes256gcm_decrypt(ck, nonce, ct, e["aad"].encode())
        assert padded == unb64u(e["padded"]) and len(padded) % 64 == 0 and len(padded) >= 256
        pt = unpad(padded)
        assert pt == e["plaintext"].encode("utf-8")
        assert len(padded) == 256 or len(padded) - 64 < len(pt) + 1
        obj = json.loads(pt)
        assert obj["v"] == 1
        assert (list(obj) == ["v", "kind", "body", "sent_at"] and obj["kind"] == "text") or \
            (list(obj) == ["v", "kind", "signature", "sent_at"] and obj["kind"] == "leave")
        assert json.dumps(obj, separators=(",", ":"), ensure_ascii=False) == e["plaintext"]
        _load_pkcs8(unb64u(e["sender_sig_pkcs8"]), unb64u(e["sender_sig_public"]))
        sig = unb64u(e["signature"])
        assert len(sig) == 64
        assert p1363_verify(unb64u(e["sender_sig_public"]), e["aad"].encode() + nonce + ct, sig)
    assert {json.loads(e["plaintext"])["kind"] for e in doc["message_seal"]} == {"text", "leave"}
    assert len({len(unb64u(e["padded"])) for e in doc["message_seal"]}) > 1
    for e in doc["padding"]["lengths"]:
        data, padded = unb64u(e["json"]), unb64u(e["padded"])
        assert len(padded) == e["length"] and unpad(padded) == data
        assert padded == data + b"\x80" + bytes(len(padded) - len(data) - 1)
        assert len(padded) % 64 == 0 and (len(padded) == 256 or len(padded) - 64 < len(data) + 1)
    for e in doc["padding"]["refused"]:
        assert unpad(unb64u(e["padded"])) is None, e["comment"]
    bodies = [json.loads(e["plaintext"]).get("body", "") for e in doc["message_seal"]]
    assert any(not b.isascii() for b in bodies) and any('"' in b and "\n" in b for b in bodies)

    for e in doc["signature_verify"]:
        sig = unb64u(e["signature"])
        assert len(sig) == 64
        _check_public(unb64u(e["public"]))
        assert p1363_verify(unb64u(e["public"]), unb64u(e["message"]), sig) == e["valid"], e["comment"]
        assert (int.from_bytes(sig[32:], "big") > N // 2) == e["high_s"], e["comment"]
    assert any(e["valid"] and e["high_s"] for e in doc["signature_verify"])
    alice_sig = KeyPair("alice.sig")
    for e in doc["signature_verify"]:
        assert e["made_by"] in ("python-rfc6979", "rust-p256", "webcrypto-chromium"), e["made_by"]
        if e["made_by"] == "rust-p256" and e["valid"]:
            # p256 signs with RFC 6979 nonces and does not normalise s: our signer agrees.
            assert p1363_sign(alice_sig, unb64u(e["message"])) == unb64u(e["signature"]), "p256 RFC 6979"
    for made_by in ("python-rfc6979", "rust-p256", "webcrypto-chromium"):
        assert any(e["valid"] and e["made_by"] == made_by for e in doc["signature_verify"]), made_by

    for e in doc["aead_negative"]:
        try:
            aes256gcm_decrypt(unb64u(e["key"]), unb64u(e["nonce"]), unb64u(e["ciphertext"]), e["aad"].encode())
        except InvalidTag:
            continue
        raise AssertionError(f"aead_negative decrypted: {e['comment']}")

    mks = {e["username"]: e["mk"] for e in doc["password_to_keys"]}
    sealed_before: dict[tuple[str, int], bytes] = {}
    for e in doc["contact_book"]:
        mk, nonce, sealed = unb64u(e["mk"]), unb64u(e["nonce"]), unb64u(e["sealed"])
        assert e["mk"] == mks[e["username"]]
        cbk = unb64u(e["cbk"])
        assert cbk == step8_contacts_key(mk) and len(cbk) == 32 and len(nonce) == 12
        assert e["aad"] == f"hush-v1|contacts|{e['user_id']}|{e['version']}" and e["version"] >= 1
        assert sealed[:12] == nonce
        pt = aes256gcm_decrypt(cbk, nonce, sealed[12:], e["aad"].encode())
        assert pt == e["plaintext"].encode("utf-8")
        for other in (e["version"] - 1, e["version"] + 1):
            if other < 1:
                continue
            try:
                aes256gcm_decrypt(cbk, nonce, sealed[12:], contacts_aad(e["user_id"], other).encode())
            except InvalidTag:
                continue
            raise AssertionError("a contact book opened under another version")
        obj = json.loads(pt)
        assert list(obj) == ["prev", "contacts"]
        ids = []
        for c in obj["contacts"]:
            assert list(c) == ["user", "verified"] and isinstance(c["verified"], bool)
            assert list(c["user"]) == ["id", "username", "dh_public", "sig_public"]
            assert b64u(unb64u(c["user"]["dh_public"])) in publics and c["user"]["sig_public"] in publics
            assert c["user"]["id"] != e["user_id"], "one is not one's own contact"
            ids.append(c["user"]["id"].encode())
        assert ids == sorted(ids) and len(set(ids)) == len(ids), "contacts in ascending id order, once each"
        assert json.dumps(obj, separators=(",", ":"), ensure_ascii=False) == e["plaintext"]
        if e["version"] == 1:
            assert obj["prev"] == ""
        else:
            assert obj["prev"] == b64u(hashlib.sha256(sealed_before[(e["user_id"], e["version"] - 1)]).digest())
        sealed_before[(e["user_id"], e["version"])] = sealed
    alice_p2k = next(p for p in doc["password_to_keys"] if p["username"] == "alice")
    assert alice_p2k["password"] != alice_p2k["password_nfkc"]
    assert any(e["username"] == "alice" and e["version"] == 3 and e["user_id"] == ALICE_ID
               for e in doc["contact_book"])

    for e in doc["safety_number"]:
        rows = e["parties"]
        assert len(rows) == 2
        for r in rows:
            h = step9_party_hash(unb64u(r["key"]), unb64u(r["id"]))
            assert unb64u(r["hash"]) == h and len(h) == 64 and r["digits"] == step9_digits(h)
            assert len(r["digits"]) == 30 and r["digits"].isdigit()
        low, high = sorted(rows, key=lambda r: r["digits"].encode())
        assert e["digits"] == low["digits"] + high["digits"] and len(e["digits"]) == 60
        qr = unb64u(e["qr"])
        assert len(qr) == 65 and qr == b"\x00" + unb64u(low["hash"])[:32] + unb64u(high["hash"])[:32]
        if e["users"] is not None:
            for user, r in zip(e["users"], rows):
                assert unb64u(r["key"]) == unb64u(user["sig_public"]) + unb64u(user["dh_public"])
                assert unb64u(r["id"]) == uuid.UUID(user["id"]).bytes
    assert any(e["digits"] == LIBSIGNAL_DIGITS and e["users"] is None for e in doc["safety_number"])
    assert any(e["users"] is not None for e in doc["safety_number"])

    wire = json.loads(json.dumps(doc["keys_signature"][0]))
    one_epoch_fields = ["id", "title", "created_by", "created_at", "last_seq", "members", "epochs"]
    epoch_fields = ["epoch", "signer_id", "commit", "members", "keys", "keys_signature"]
    for e in doc["keys_signature_negative"]:
        conv = e["conversation"]
        assert list(e) == ["case", "comment", "refusal", "signature_genuine", "holder", "conversation"]
        # The shape serde writes: every epoch with its departures, the conversation with pending.
        assert list(conv) == one_epoch_fields + ["pending"] and conv["pending"] == [], e["case"]
        for ep in conv["epochs"]:
            assert list(ep) == epoch_fields + ["departures"], e["case"]
            assert all(list(d) == ["member_id", "signature"] for d in ep["departures"]), e["case"]
        if e["case"].startswith("chain: "):
            assert [ep["epoch"] for ep in conv["epochs"]] == sorted(ep["epoch"] for ep in conv["epochs"])
            assert conv["members"] == conv["epochs"][-1]["members"], e["case"]
        else:
            assert len(conv["epochs"]) == 1, e["case"]
        assert refusal_of(conv, e["holder"]) == e["refusal"], e["case"]
        assert signature_genuine(conv) == e["signature_genuine"], e["case"]
    cases = {e["case"]: e for e in doc["keys_signature_negative"]}
    assert len(cases) == len(doc["keys_signature_negative"]), "case names are unique"
    genuine = cases["genuine"]["conversation"]
    assert cases["genuine"]["refusal"] is None
    assert genuine["epochs"][0]["keys_signature"] == wire["signature"]
    assert epoch_statement(genuine["id"], genuine["epochs"][0], GENESIS_PREV) == wire["statement"]
    assert {e["refusal"] for e in doc["keys_signature_negative"]} >= {
        "signature", "public_key", "length:wrapped key", "keys", "creator", "commit", "removal", "signer",
        "departure", "departure_signature", "epoch_order", "changed"}
    assert cases["16-byte content key"]["signature_genuine"] is True
    assert cases["compressed public key"]["signature_genuine"] is True
    assert cases["chain: departure in epoch 0"]["signature_genuine"] is True

    # keys_chain: every statement, head, link, signature and departure recomputed from its parts,
    # with the text built here by hand (not by step6_statement), and each wrapped key reproduced
    # and unwrapped with the member's dh key from keypairs.
    dh_pkcs8 = {kp["public"]: unb64u(kp["pkcs8"]) for kp in doc["keypairs"]}
    scalar_of = {kp["public"]: int.from_bytes(unb64u(kp["private_scalar"]), "big") for kp in doc["keypairs"]}
    for chain in doc["keys_chain"]:
        cid = chain["conversation_id"]
        eps = chain["epochs"]
        assert [ep["epoch"] for ep in eps] == list(range(len(eps))) and len(eps) >= 3
        wire_chain = cases["chain: genuine"]["conversation"]
        assert wire_chain["id"] == cid and wire_chain["created_by"] == chain["created_by"]
        assert len(wire_chain["epochs"]) == len(eps)
        for ep, we in zip(eps, wire_chain["epochs"]):
            n = ep["epoch"]
            before = eps[n - 1] if n else None
            # Epoch 0's signer is the creator, a member of it; later, a member of the epoch before.
            admits = ep if before is None else before
            if before is None:
                assert ep["signer_id"] == chain["created_by"] and ep["prev"] == b64u(GENESIS_PREV)
                assert not ep["departures"]
            else:
                assert ep["prev"] == before["head"]
            signer_row = [m for m in admits["members"] if m["member_id"] == ep["signer_id"]]
            assert len(signer_row) == 1 and signer_row[0]["sig_public"] == ep["signer_sig_public"]
            ck = unb64u(ep["ck"])
            commit = hmac.new(ck, f"hush-v1|commit|{cid}|{n}".encode(), hashlib.sha256).digest()
            assert len(ck) == 32 and b64u(commit) == ep["commit"]
            ids = [m["member_id"] for m in ep["members"]]
            assert len(set(ids)) == len(ids)
            root = _levels([(m["member_id"], unb64u(m["wrapped_key"])) for m in ep["members"]])[-1][0]
            assert b64u(root) == ep["key_root"]
            text = (f"hush-v1|keys2|{cid}|{n}|{ep['signer_id']}|commit:{ep['commit']}|prev:{ep['prev']}|"
                    f"keys:{ep['key_root']}|")
            for m in sorted(ep["members"], key=lambda m: m["member_id"].encode()):
                wrapped = unb64u(m["wrapped_key"])
                assert len(wrapped) == 125
                text += f"{m['member_id']}:{m['username']}:{m['dh_public']}:{m['sig_public']};"
                # The wrap again, from the ephemeral scalar and nonce (step 3, by hand).
                eph = ec.derive_private_key(int.from_bytes(unb64u(m["ephemeral_private_scalar"]), "big"),
                                            ec.SECP256R1())
                eph_pub = eph.public_key().public_bytes(serialization.Encoding.X962,
                                                        serialization.PublicFormat.UncompressedPoint)
                member_pub, nonce, info = unb64u(m["dh_public"]), unb64u(m["nonce"]), \
                    f"hush-v1|wrap|{cid}|{n}|{m['member_id']}".encode()
                z = eph.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), member_pub))
                wk = HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + member_pub, info=info).derive(z)
                assert eph_pub + nonce + AESGCM(wk).encrypt(nonce, ck, info) == wrapped
                assert _unwrap_ck(wrapped, cid, n, m["member_id"], dh_pkcs8[m["dh_public"]]) == ck
            if before is not None:
                # Who is gone left (a departure here) or was removed by the creator.
                left = {d["member_id"] for d in ep["departures"]}
                gone = {m["member_id"] for m in before["members"]} - set(ids)
                assert left <= gone and (gone <= left or ep["signer_id"] == chain["created_by"])
            for d in sorted(ep["departures"], key=lambda d: d["member_id"].encode()):
                text += f"left:{d['member_id']};"
            assert text == ep["statement"], f"epoch {n}"
            assert ep["head"] == b64u(hashlib.sha256(text.encode()).digest())
            sig = unb64u(ep["signature"])
            assert p1363_verify(unb64u(ep["signer_sig_public"]), text.encode(), sig)
            assert ecdsa_sign_rfc6979(scalar_of[ep["signer_sig_public"]], text.encode()) == sig, "RFC 6979"
            for d in ep["departures"]:
                assert d["epoch_left"] == n - 1 and d["head_left"] == before["head"]
                assert d["signed"] == f"hush-v1|leave|{cid}|{n - 1}|{before['head']}|{d['member_id']}"
                row = [m for m in before["members"] if m["member_id"] == d["member_id"]]
                assert len(row) == 1 and row[0]["sig_public"] == d["sig_public"]
                dsig = unb64u(d["signature"])
                assert p1363_verify(unb64u(d["sig_public"]), d["signed"].encode(), dsig)
                assert ecdsa_sign_rfc6979(scalar_of[d["sig_public"]], d["signed"].encode()) == dsig
            # The wire epoch of case "chain: genuine" is this epoch.
            assert (we["epoch"], we["signer_id"], we["commit"], we["keys_signature"]) == (
                n, ep["signer_id"], ep["commit"], ep["signature"])
            assert we["members"] == [{"id": m["member_id"], "username": m["username"], "dh_public": m["dh_public"],
                                      "sig_public": m["sig_public"]} for m in ep["members"]]
            assert we["keys"] == [{"member_id": m["member_id"], "wrapped_key": m["wrapped_key"]}
                                  for m in ep["members"]]
            assert we["departures"] == [{"member_id": d["member_id"], "signature": d["signature"]}
                                        for d in ep["departures"]]
        assert eps[0]["statement"] == wire["statement"] and eps[0]["signature"] == wire["signature"]
        assert any(ep["departures"] for ep in eps), "a departure"
        assert any(ep["signer_id"] != chain["created_by"] for ep in eps), "a change by a non-creator"
        assert any(len(ep["members"]) < len(eps[i - 1]["members"]) and not ep["departures"]
                   for i, ep in enumerate(eps) if i), "a removal by the creator"

    for e in doc["kdf_params_negative"]:
        salt = unb64u(e["answer"]["kdf_salt"])
        assert list(e["answer"]) == ["kdf_salt", "kdf_iterations"]
        assert e["accept"] == kdf_params_ok(len(salt), e["answer"]["kdf_iterations"]), e["comment"]
    refused = {(len(unb64u(e["answer"]["kdf_salt"])), e["answer"]["kdf_iterations"])
               for e in doc["kdf_params_negative"] if not e["accept"]}
    assert {(16, 0), (16, 1), (16, 599_999), (16, 10_000_001), (15, 600_000)} <= refused
    assert any(e["accept"] for e in doc["kdf_params_negative"])


def _levels(keys: list[tuple[str, bytes]]) -> list[list[bytes]]:
    """The key tree over (member_id, wrapped_key) pairs, by hand and from the bottom: leaves in
    ascending byte order of the id, then each level up to the root."""
    keys = sorted(keys, key=lambda k: k[0].encode())
    levels = [[hashlib.sha256(b"\x00" + mid.encode() + b":" + wk).digest() for mid, wk in keys]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([hashlib.sha256(b"\x01" + below[i] + below[i + 1]).digest() if i + 1 < len(below)
                       else below[i] for i in range(0, len(below), 2)])
    return levels


def check_key_trees(doc: dict) -> None:
    """key_tree: every leaf, root and path again, the tree built from the bottom (a level's last node
    without a partner moves up as it is) rather than by RFC 9162's recursion, and each path walked
    up to the root."""
    sizes = [t["size"] for t in doc["key_tree"]]
    assert {1, 2, 3, 4, 5, 7, 8, 9, 13} <= set(sizes)
    for t in doc["key_tree"]:
        rows = t["leaves"]
        assert len(rows) == t["size"] and [r["member_id"] for r in rows] == sorted(r["member_id"] for r in rows)
        levels = _levels([(r["member_id"], unb64u(r["wrapped_key"])) for r in rows])
        leaves = levels[0]
        assert [b64u(leaf) for leaf in leaves] == [r["leaf"] for r in rows]
        assert b64u(levels[-1][0]) == t["root"]
        for m, r in enumerate(rows):
            path, at = b"", m
            for level in levels[:-1]:
                if at ^ 1 < len(level):
                    path += level[at ^ 1]
                at //= 2
            assert b64u(path) == r["path"]
            node, at, width, rest = leaves[m], m, len(leaves), path
            while width > 1:
                if at ^ 1 < width:
                    sib, rest = rest[:32], rest[32:]
                    node = hashlib.sha256(b"\x01" + (sib + node if at % 2 else node + sib)).digest()
                at, width = at // 2, (width + 1) // 2
            assert rest == b"" and b64u(node) == t["root"]


def render(doc: dict) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="recompute and compare with the committed file; exit 1 on mismatch")
    ap.add_argument("--out", type=Path, default=OUT_PATH, help=f"output file (default {OUT_PATH})")
    args = ap.parse_args()

    doc = build_document()
    self_check(doc)
    data = render(doc)
    self_check(json.loads(data))  # the serialised form round-trips

    if args.check:
        try:
            existing = args.out.read_bytes()
        except FileNotFoundError:
            print(f"MISMATCH: {args.out} does not exist", file=sys.stderr)
            return 1
        if existing != data:
            print(f"MISMATCH: {args.out} differs from the recomputed vectors", file=sys.stderr)
            return 1
        self_check(json.loads(existing))
        print(f"OK: {args.out} matches (cryptography {cryptography.__version__}, "
              f"deterministic ECDSA cross-check: {'yes' if DETERMINISTIC_ECDSA else 'no'})")
        return 0

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes; cryptography {cryptography.__version__}, "
          f"deterministic ECDSA cross-check: {'yes' if DETERMINISTIC_ECDSA else 'no'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
