"""The log's tree is RFC 9162's: known answers from the published test vectors, and the same
roots and proofs as an independent implementation (pymerkle), at every size."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest
from pymerkle import InmemoryTree

from petition import merkle

VECTORS = Path(__file__).parent / "data" / "rfc9162"

# RFC 6962's reference leaves and the roots of the trees of their first 0…8 leaves, as
# published with the Certificate Transparency reference implementation (tests/data/rfc9162).
LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        *("", "00", "10", "2021", "3031", "40414243", "5051525354555657"),
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def in_memory(leaf_hashes: list[bytes]) -> merkle.Subtree:
    """Complete subtrees of a list of leaf hashes, the way the log's tiles give them."""

    def complete(start: int, end: int) -> bytes:
        assert merkle.is_complete(start, end)
        return merkle.root_of_complete(leaf_hashes[start:end])

    return lambda start, end: merkle.subtree_hash(start, end, complete)


def vectors(kind: str) -> list[dict]:
    return json.loads((VECTORS / f"{kind}.json").read_text())


def unb64(values: list[str] | str | None):
    if values is None:
        return []
    if isinstance(values, str):
        return base64.b64decode(values)
    return [base64.b64decode(value) for value in values]


def test_the_roots_of_the_reference_leaves_are_the_published_ones():
    builder = merkle.RootBuilder()
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAF_INPUTS]
    assert builder.root().hex() == ROOTS[0]
    for size in range(1, 9):
        builder.push(hashes[size - 1])
        assert builder.root().hex() == ROOTS[size]
        assert merkle.subtree_hash(0, size, in_memory(hashes)).hex() == ROOTS[size]


@pytest.mark.parametrize("probe", vectors("inclusion"), ids=lambda p: p["desc"])
def test_inclusion_proofs_are_verified_as_the_published_vectors_require(probe):
    def verify():
        merkle.verify_inclusion(
            unb64(probe["leafHash"]) or b"",
            probe["leafIdx"],
            probe["treeSize"],
            unb64(probe["proof"]),
            unb64(probe["root"]) or b"",
        )

    if probe["wantErr"]:
        with pytest.raises(merkle.ProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("probe", vectors("consistency"), ids=lambda p: p["desc"])
def test_consistency_proofs_are_verified_as_the_published_vectors_require(probe):
    def verify():
        merkle.verify_consistency(
            probe["size1"],
            probe["size2"],
            unb64(probe["root1"]) or b"",
            unb64(probe["root2"]) or b"",
            unb64(probe["proof"]),
        )

    if probe["wantErr"]:
        with pytest.raises(merkle.ProofError):
            verify()
    else:
        verify()


def test_our_proofs_are_the_published_ones_for_the_reference_tree():
    hashes = [merkle.leaf_hash(leaf) for leaf in LEAF_INPUTS]
    subtree = in_memory(hashes)
    happy = [p for p in vectors("inclusion") if not p["wantErr"] and p["treeSize"] <= 8]
    assert happy
    for probe in happy:
        proof = merkle.inclusion_proof(probe["leafIdx"], probe["treeSize"], subtree)
        assert proof == unb64(probe["proof"])
    happy = [p for p in vectors("consistency") if not p["wantErr"] and p["size1"] > 0]
    assert happy
    for probe in happy:
        proof = merkle.consistency_proof(probe["size1"], probe["size2"], subtree)
        assert proof == unb64(probe["proof"])


def test_every_proof_of_every_small_tree_verifies():
    hashes = [merkle.leaf_hash(bytes([n])) for n in range(70)]
    subtree = in_memory(hashes)
    roots = [merkle.subtree_hash(0, size, in_memory(hashes)) for size in range(1, 71)]
    for size in range(1, 71):
        for index in range(size):
            path = merkle.inclusion_proof(index, size, subtree)
            merkle.verify_inclusion(hashes[index], index, size, path, roots[size - 1])
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(hashes[index - 1], index, size, path, roots[size - 1])
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(first, size, subtree)
            merkle.verify_consistency(first, size, roots[first - 1], roots[size - 1], proof)
            if first < size:
                with pytest.raises(merkle.ProofError):
                    merkle.verify_consistency(first, size, roots[first], roots[size - 1], proof)


def test_roots_and_inclusion_proofs_agree_with_pymerkle_at_every_size():
    rng = random.Random(9162)  # noqa: S311 - reproducible test data
    leaves = [merkle.leaf(rng.choice([0, 1]), rng.randbytes(32)) for _ in range(600)]
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    theirs = InmemoryTree(algorithm="sha256")
    ours = merkle.RootBuilder()
    subtree = in_memory(hashes)
    for size, (leaf, hash_) in enumerate(zip(leaves, hashes, strict=True), start=1):
        theirs.append_entry(leaf)
        ours.push(hash_)
        assert ours.root() == theirs.get_root(size)
        if size % 37 == 0 or size in (256, 257, 512):
            for index in rng.sample(range(size), min(size, 5)):
                # pymerkle counts leaves from 1 and puts the leaf itself first in its path.
                path = theirs.prove_inclusion(index + 1, size).serialize()["path"]
                ours_path = merkle.inclusion_proof(index, size, subtree)
                assert [node.hex() for node in ours_path] == path[1:]


def test_a_checkpoint_reads_back_only_as_written():
    point = merkle.Checkpoint("example.org/p", 12, bytes(range(32)), 10, "2026-12-06T10:05:00Z")
    assert merkle.Checkpoint.parse(point.body()) == point
    for altered in [
        point.body().replace(b"count 10", b"count 11 "),
        point.body() + b"extra\n",
        point.body().replace(b"12\n", b"012\n", 1),
        point.body()[:-1],
    ]:
        with pytest.raises(merkle.ProofError):
            merkle.Checkpoint.parse(altered)
