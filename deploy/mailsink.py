"""An SMTP server for the cluster's `mail` node that keeps each message as one .eml file:
`python -m aiosmtpd -n -l ADDRESS:PORT -c mailsink.EmlFolder FOLDER` (with deploy/ on
PYTHONPATH). It stands for the mail provider; nothing leaves."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session


class EmlFolder:
    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_cli(cls, parser: object, *args: str) -> EmlFolder:
        (folder,) = args
        return cls(folder)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.time_ns()}-{uuid.uuid4().hex}.eml"
        # Written whole beside the folder, then moved in: a reader never sees half a message.
        partial = self.folder.parent / f".{self.folder.name}-{name}.part"
        with open(partial, "wb") as file:
            # Which machine handed the message over, as aiosmtpd's own Mailbox handler says it.
            file.write(f"X-Peer: {session.peer[0]}\r\n".encode())
            file.write(envelope.original_content or envelope.content)
            file.flush()
            os.fsync(file.fileno())
        partial.rename(self.folder / name)
        return "250 Message accepted for delivery"
