"""A real SMTP server for the notification tests (aiosmtpd, installed by .ci/run).

Listens on a free loopback port, prints the port on its first line of output, and
writes each message it accepts to DIR as N.eml (after an envelope line `X-Rcpt-To:`).
Recipients whose local part starts with `bounce` are refused with 550 (a permanent
refusal); those starting with `later` get 451 (try again later). Senders whose local
part starts with `refused` get 550 to MAIL FROM. With --auth-fails the server offers
AUTH and refuses every login with 535.

usage: python3 smtp_sink.py DIR [--auth-fails]
"""

import asyncio
import itertools
import os
import socket
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def refuse_every_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=False, handled=False)


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.split("@", 1)[0].lower().startswith("refused"):
            return "550 5.7.1 <%s>: sender refused" % address
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

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
    options = {}
    if "--auth-fails" in sys.argv[2:]:
        options = {"authenticator": refuse_every_login, "auth_require_tls": False}
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(port, flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or dies)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
