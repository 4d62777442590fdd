"""The Merkle tree of the public signature log, as RFC 9162 (Certificate Transparency 2.0)
defines it, and the signed checkpoints that publish its heads (C2SP tlog-checkpoint, in a C2SP
signed note).

This module is the verifier as much as the log: the site builds its proofs with it, the
auditor (`python -m petition.audit`) and the tests check them with it, and the browser's check
(static/js/log-check.js) is a line-by-line port of its verifying half. It imports nothing from
Django, so that anyone can run the auditor without the site.

A leaf is one byte saying what it records, then the 32-byte SHA-256 of a signer's receipt:

    ADDITION (0x00) || SHA-256(receipt)   a confirmed signature entered the count
    REMOVAL  (0x01) || SHA-256(receipt)   that signature left it (withdrawn, invalidated, erased)
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

HASH_SIZE = 32
ADDITION = 0x00
REMOVAL = 0x01
LEAF_SIZE = 1 + HASH_SIZE
# A subtree, by the leaves it spans: [start, end).
Subtree = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof, a leaf or a checkpoint that does not verify."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def receipt_hash(receipt: str) -> bytes:
    return hashlib.sha256(receipt.encode("ascii")).digest()


def leaf(kind: int, receipt_digest: bytes) -> bytes:
    if kind not in (ADDITION, REMOVAL) or len(receipt_digest) != HASH_SIZE:
        raise ValueError("a leaf is a kind and a 32-byte receipt hash")
    return bytes([kind]) + receipt_digest


def split(size: int) -> int:
    """The largest power of two smaller than size (RFC 9162's k), for size > 1."""
    return 1 << ((size - 1).bit_length() - 1)


def root_of_complete(hashes: list[bytes]) -> bytes:
    """The root over a power-of-two number of hashes, pairwise, level by level."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


class RootBuilder:
    """The tree head of a growing list of leaves, in memory logarithmic in their number.

    Each entry of the stack is the root of a complete subtree, left to right, of strictly
    decreasing size: exactly the subtrees RFC 9162's MTH splits a tree into.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (height, hash)

    def push(self, hash_: bytes) -> None:
        height = 0
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            hash_ = node_hash(left, hash_)
            height += 1
        self._stack.append((height, hash_))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return hashlib.sha256(b"").digest()
        hash_ = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            hash_ = node_hash(left, hash_)
        return hash_


def is_complete(start: int, end: int) -> bool:
    """Whether [start, end) is one node of the tree: a power-of-two span, aligned."""
    size = end - start
    return size > 0 and size & (size - 1) == 0 and start % size == 0


def subtree_hash(start: int, end: int, complete: Subtree) -> bytes:
    """MTH(D[start:end]) from the hashes of complete subtrees, which `complete` gives."""
    if is_complete(start, end):
        return complete(start, end)
    k = split(end - start)
    return node_hash(complete(start, start + k), subtree_hash(start + k, end, complete))


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[0:size]), RFC 9162 section 2.1.3.1, from the leaf upwards."""
    if not 0 <= index < size:
        raise ValueError("the leaf is not in a tree of that size")
    path = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """PROOF(first, D[0:second]), RFC 9162 section 2.1.4.1."""
    if not 0 <= first <= second:
        raise ValueError("the first tree must be no larger than the second")
    if first == 0 or first == second:
        return []

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        if m == end - start:
            return [] if whole else [subtree(start, end)]
        k = split(end - start)
        if m <= k:
            return [*subproof(m, start, start + k, whole), subtree(start + k, end)]
        return [*subproof(m - k, start + k, end, False), subtree(start, start + k)]

    return subproof(first, 0, second, True)


def root_from_inclusion(hash_: bytes, index: int, size: int, path: Iterable[bytes]) -> bytes:
    """The root an inclusion proof leads to, RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise ProofError("the leaf index is outside the tree")
    path = list(path)
    _check_hashes(hash_, *path)
    fn, sn, r = index, size - 1, hash_
    for p in path:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def _check_hashes(*hashes: bytes) -> None:
    if any(len(hash_) != HASH_SIZE for hash_ in hashes):
        raise ProofError("a hash is not 32 bytes long")


def verify_inclusion(hash_: bytes, index: int, size: int, path: list[bytes], root: bytes) -> None:
    _check_hashes(root)
    if root_from_inclusion(hash_, index, size, path) != root:
        raise ProofError("the inclusion proof does not lead to the tree head")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> None:
    """RFC 9162 section 2.1.4.2: the first tree is a prefix of the second."""
    if not 0 <= first <= second:
        raise ProofError("the first tree is larger than the second")
    if first == 0:
        raise ProofError("every tree starts with the empty tree: there is nothing to prove")
    if first == second:
        if proof or first_root != second_root:
            raise ProofError("two heads of the same size differ")
        return
    _check_hashes(first_root, second_root, *proof)
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise ProofError("the consistency proof does not join the two heads")


# Checkpoints: https://c2sp.org/tlog-checkpoint and https://c2sp.org/signed-note


@dataclass(frozen=True)
class Checkpoint:
    """A tree head as the log signs it: origin, size and root, then this log's two extension
    lines, the count the leaves add up to and the time of the head (to its period, no finer)."""

    origin: str
    size: int
    root: bytes
    count: int
    timestamp: str  # ISO 8601, UTC, "2026-12-06T23:05:00Z"

    def body(self) -> bytes:
        return (
            f"{self.origin}\n{self.size}\n{b64(self.root)}\n"
            f"count {self.count}\ntime {self.timestamp}\n"
        ).encode()

    @classmethod
    def parse(cls, body: bytes) -> Checkpoint:
        try:
            origin, size, root, count, time, end = body.decode().split("\n")
            if end or not count.startswith("count ") or not time.startswith("time "):
                raise ValueError
            checkpoint = cls(origin, int(size), unb64(root), int(count[6:]), time[5:])
        except ValueError as error:
            raise ProofError("this is not a checkpoint of the log") from error
        if len(checkpoint.root) != HASH_SIZE or checkpoint.body() != body:
            raise ProofError("this is not a checkpoint of the log")
        return checkpoint


ED25519 = 0x01


def key_id(name: str, public_key: bytes) -> bytes:
    """A note key's 4-byte id: the start of SHA-256(name || "\\n" || 0x01 || key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The key as note verifiers write it: name+hex id+base64(0x01 || key)."""
    return f"{name}+{key_id(name, public_key).hex()}+{b64(bytes([ED25519]) + public_key)}"


def fingerprint(public_key: bytes) -> str:
    """What people compare by eye: SHA-256 of the raw public key, in hex groups of four."""
    digest = hashlib.sha256(public_key).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def signed_note(body: bytes, name: str, public_key: bytes, signature: bytes) -> str:
    line = b64(key_id(name, public_key) + signature)
    return f"{body.decode()}\n\u2014 {name} {line}\n"


def open_note(note: str, name: str, public_key: bytes) -> tuple[bytes, bytes]:
    """(body, signature) of a signed note, for the given key; the signature is not checked."""
    body, separator, signatures = note.partition("\n\n")
    if not separator:
        raise ProofError("this note has no signature")
    wanted = key_id(name, public_key)
    for line in signatures.splitlines():
        dash, _, rest = line.partition(" ")
        signer, _, value = rest.partition(" ")
        if dash != "\u2014" or signer != name:
            continue
        try:
            raw = unb64(value)
        except ValueError:
            continue
        if raw[:4] == wanted and len(raw) == 4 + 64:
            return (body + "\n").encode(), raw[4:]
    raise ProofError("this note is not signed by that key")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
