"""Audit a petition's public log from anywhere, trusting nothing the site says without proof.

    python -m petition.audit https://petition.example.org/ stop-cyberpedocriminalite
        [--key FINGERPRINT_OR_BASE64_KEY] [--receipt RECEIPT] [--state FILE]

It downloads every leaf, rebuilds the tree, recounts it (each removal must cancel a counted
receipt, no receipt may count twice), checks that the latest head's root and count are the
rebuilt ones and that the head is signed by a trusted key, and checks the consistency of the
log with every earlier head it has seen: the site's daily heads and those kept from earlier
runs (--state). With --receipt, it also checks that one signature is counted.

It needs Python and the `cryptography` package, nothing of Django: copy petition/merkle.py and
this file anywhere. Exit status 0 when every check passed, 1 when one failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

try:
    from . import merkle
except ImportError:  # run as a plain script, beside merkle.py
    import merkle  # type: ignore[no-redef]

PAGE = 10_000


class AuditFailed(Exception):
    """What the log or the site got wrong."""


@dataclass
class Head:
    size: int
    root: bytes
    count: int
    timestamp: str
    public_key: bytes
    origin: str
    data: dict[str, Any]


@dataclass
class Report:
    checks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def passed(self, text: str) -> None:
        self.checks.append(text)

    def failed(self, text: str) -> None:
        self.failures.append(text)


class Site:
    def __init__(self, base: str, slug: str, timeout: float = 30) -> None:
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise AuditFailed(f"{base} is not an http(s) address")
        self.base = base.rstrip("/") + "/"
        self.slug = slug
        self.timeout = timeout

    def get(self, path: str, **query: object) -> Any:
        url = urllib.parse.urljoin(self.base, f"api/petitions/{self.slug}/log/{path}")
        if query:
            url += "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
            url, headers={"Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.load(response)
        except urllib.error.HTTPError as error:
            try:
                message = json.load(error).get("error", "")
            except ValueError:
                message = ""
            raise AuditFailed(f"{url} answered {error.code} {message}".strip()) from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise AuditFailed(f"{url} could not be read: {error}") from error


def parse_key(text: str) -> tuple[str | None, bytes | None]:
    """--key: a fingerprint (hex, with or without colons) or a base64 public key."""
    compact = text.replace(":", "").strip().lower()
    if len(compact) == 64 and all(c in "0123456789abcdef" for c in compact):
        return compact, None
    try:
        raw = merkle.unb64(text.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError("not a fingerprint or a base64 key") from error
    if len(raw) != 32:
        raise argparse.ArgumentTypeError("an Ed25519 public key is 32 bytes")
    return None, raw


def key_matches(public_key: bytes, wanted: list[tuple[str | None, bytes | None]]) -> bool:
    fingerprint = merkle.fingerprint(public_key).replace(":", "")
    return any(public_key == raw or fingerprint == hexed for hexed, raw in wanted)


def verified_head(data: dict[str, Any]) -> Head:
    """A head from the API, once its checkpoint is shown to be signed and to say what the
    JSON says."""
    try:
        public_key = merkle.unb64(data["public_key"])
        name = data["verifier_key"].split("+")[0]
        body, signature = merkle.open_note(data["checkpoint"], name, public_key)
        point = merkle.Checkpoint.parse(body)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, body)
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise AuditFailed(f"a head could not be read: {error}") from error
    except InvalidSignature as error:
        raise AuditFailed(f"the head of {data.get('timestamp')} is not validly signed") from error
    claimed = (data["tree_size"], data["root_hash"], data["count"], data["timestamp"])
    if claimed != (point.size, merkle.b64(point.root), point.count, point.timestamp):
        raise AuditFailed(f"the head of {point.timestamp} says one thing and signs another")
    return Head(
        point.size, point.root, point.count, point.timestamp, public_key, point.origin, data
    )


def progress(done: int, total: int, *, stream: Any = sys.stderr) -> None:
    if not stream.isatty() and done not in (0, total):
        return
    width = 30
    filled = width * done // total if total else width
    percent = 100 * done // total if total else 100
    bar = "#" * filled + " " * (width - filled)
    stream.write(f"\r[{bar}] {percent:3d}% {done:,}/{total:,} leaves")
    if done == total:
        stream.write("\n")
    stream.flush()


def rebuild(site: Site, size: int, checkpoints: set[int], report: Report) -> tuple[dict, int]:
    """Download leaves [0, size), rebuild the tree and recount it; the roots at the sizes in
    checkpoints, and the count."""
    builder = merkle.RootBuilder()
    roots = {0: builder.root()} if 0 in checkpoints else {}
    live: set[bytes] = set()
    count = 0
    progress(0, size)
    for start in range(0, size, PAGE):
        end = min(start + PAGE, size)
        page = site.get("leaves/", start=start, end=end)
        leaves = [merkle.unb64(leaf) for leaf in page["leaves"]]
        if len(leaves) != end - start:
            raise AuditFailed(f"the site gave {len(leaves)} leaves for [{start}, {end})")
        for offset, (leaf, given) in enumerate(zip(leaves, page["leaf_hashes"], strict=True)):
            index = start + offset
            if len(leaf) != merkle.LEAF_SIZE or leaf[0] not in (merkle.ADDITION, merkle.REMOVAL):
                raise AuditFailed(f"leaf {index} is not a leaf of this log")
            hashed = merkle.leaf_hash(leaf)
            if merkle.b64(hashed) != given:
                report.failed(f"leaf {index}: the site's leaf hash is not the leaf's")
            receipt = leaf[1:]
            if leaf[0] == merkle.ADDITION:
                if receipt in live:
                    report.failed(f"leaf {index} adds a receipt already counted")
                live.add(receipt)
                count += 1
            else:
                if receipt not in live:
                    report.failed(f"leaf {index} removes a receipt that is not counted")
                live.discard(receipt)
                count -= 1
            builder.push(hashed)
            if builder.size in checkpoints:
                roots[builder.size] = builder.root()
        progress(end, size)
    return roots, count


def audit(
    base: str,
    slug: str,
    *,
    keys: list[tuple[str | None, bytes | None]],
    receipt: str | None = None,
    state_path: Path | None = None,
) -> Report:
    report = Report()
    site = Site(base, slug)
    state = load_state(state_path)
    latest = verified_head(site.get(""))
    report.passed(
        f"latest head: {latest.size:,} leaves, count {latest.count:,}, {latest.timestamp}, "
        f"key {merkle.fingerprint(latest.public_key)}"
    )
    trusted = keys + [(None, merkle.unb64(key)) for key in state.get("keys", [])]
    if not trusted:
        report.passed("no key given (--key): this run trusts the site's current key from now on")
        trusted = [(None, latest.public_key)]
    earlier = [verified_head(data) for data in site.get("heads/")["heads"]]
    earlier += [verified_head(data) for data in state.get("heads", [])]
    for head in [latest, *earlier]:
        if not key_matches(head.public_key, trusted):
            report.failed(f"the head of {head.timestamp} is signed by a key you do not trust")
        if head.origin != latest.origin:
            report.failed(f"the head of {head.timestamp} is of another log ({head.origin})")
    newer = [head for head in earlier if head.size > latest.size]
    earlier = [head for head in earlier if 0 < head.size <= latest.size]
    for head in newer:
        report.failed(f"the log shrank: a head of {head.timestamp} had {head.size:,} leaves")

    sizes = {head.size for head in earlier} | {latest.size}
    roots, count = rebuild(site, latest.size, sizes, report)
    if roots.get(latest.size) == latest.root:
        report.passed(f"the {latest.size:,} leaves rebuild the latest head's root")
    else:
        report.failed("the leaves do not rebuild the latest head's root")
    if count == latest.count:
        report.passed(f"the leaves count {count:,} signatures, as the head says")
    else:
        report.failed(f"the leaves count {count:,} signatures, the head says {latest.count:,}")

    for head in sorted({(h.size, h.timestamp): h for h in earlier}.values(), key=lambda h: h.size):
        if roots.get(head.size) != head.root:
            report.failed(f"the head of {head.timestamp} is not a state of this log")
            continue
        proof = [
            merkle.unb64(node)
            for node in site.get("consistency/", first=head.size, second=latest.size)["proof"]
        ]
        try:
            merkle.verify_consistency(head.size, latest.size, head.root, latest.root, proof)
        except merkle.ProofError as error:
            report.failed(f"the head of {head.timestamp}: {error}")
        else:
            report.passed(f"consistent with the head of {head.timestamp} ({head.size:,} leaves)")

    if receipt is not None:
        check_receipt(site, receipt, latest, report)
    if not report.failures:
        save_state(state_path, latest, earlier, trusted)
    return report


def check_receipt(site: Site, receipt: str, latest: Head, report: Report) -> None:
    wanted = merkle.leaf_hash(merkle.leaf(merkle.ADDITION, merkle.receipt_hash(receipt)))
    try:
        answer = site.get("inclusion/", receipt=receipt)
    except AuditFailed as error:
        report.failed(f"your receipt: {error}")
        return
    try:
        if merkle.unb64(answer["leaf_hash"]) != wanted or answer["tree_size"] != latest.size:
            raise merkle.ProofError("the proof is not for this receipt and head")
        path = [merkle.unb64(node) for node in answer["audit_path"]]
        merkle.verify_inclusion(wanted, answer["leaf_index"], latest.size, path, latest.root)
    except (merkle.ProofError, KeyError, ValueError) as error:
        report.failed(f"your receipt: {error}")
        return
    report.passed(f"your signature is counted: leaf {answer['leaf_index']:,}")


def load_state(path: Path | None) -> dict[str, Any]:
    if path is None or not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise AuditFailed(f"{path} is not a state file of this program") from error


def save_state(path: Path | None, latest: Head, earlier: list[Head], trusted: list) -> None:
    """Keep the heads seen, as signed, so that the next run checks the log never forked
    from them."""
    if path is None:
        return
    heads = {(h.size, h.timestamp): h.data for h in [*earlier, latest]}
    keys = sorted({merkle.b64(raw) for _, raw in trusted if raw is not None})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"keys": keys, "heads": list(heads.values())}, indent=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m petition.audit", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("site", help="the site's address, such as https://petition.example.org/")
    parser.add_argument("slug", help="the petition, such as stop-cyberpedocriminalite")
    parser.add_argument(
        "--key",
        action="append",
        type=parse_key,
        default=[],
        help="the log's public key or its fingerprint, as the campaign publishes it (repeatable)",
    )
    parser.add_argument("--receipt", help="your receipt: check that your signature is counted")
    parser.add_argument(
        "--state",
        type=Path,
        help="a file keeping the heads seen, to check the next run against them",
    )
    args = parser.parse_args(argv)
    try:
        report = audit(
            args.site, args.slug, keys=args.key, receipt=args.receipt, state_path=args.state
        )
    except AuditFailed as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    for line in report.checks:
        print(f"ok      {line}")
    for line in report.failures:
        print(f"FAILED  {line}")
    print("The log checks out." if not report.failures else "The log does NOT check out.")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
