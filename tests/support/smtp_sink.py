"""A real SMTP server for the notification tests (aiosmtpd, installed by .ci/run).

Listens on a free loopback port, prints the port on its first line of output, and
writes each message it accepts to DIR as N.eml (after an envelope line `X-Rcpt-To:`).
Recipients whose local part starts with `bounce` are refused with 550 (a permanent
refusal); those starting with `later` get 451 (try again later).

usage: python3 smtp_sink.py DIR
"""

import asyncio
import itertools
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("bounce"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("later"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        tmp = os.path.join(self.directory, "%d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(("X-Rcpt-To: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(envelope.original_content or envelope.content)
        # Renamed when complete: a reader never sees half a message.
        os.rename(tmp, os.path.join(self.directory, "%d.eml" % n))
        return "250 Message accepted"


def main():
    directory = sys.argv[1]
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or dies)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
