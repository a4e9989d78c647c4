#!/usr/bin/env python3
"""A real SMTP server on loopback for urne-mail's tests (aiosmtpd's Controller).

It stores each accepted message in a Maildir, with `X-Envelope-From` and `X-Envelope-To`
headers in front (what the client's envelope said), logs every recipient's fate as JSON lines,
and can misbehave on demand:

  --fail-first N   answer 451 (try again later) to the first N RCPT TO of each recipient
  --reject ADDR    answer 550 (no such user) to RCPT TO of ADDR, always (repeatable)
  --drop-first N   abort the connection, without answering, at the end of the first N DATA of
                   each recipient (the message is not stored)
  --tls MODE       none, starttls (offered and required before MAIL) or implicit (TLS from the
                   first byte), with --cert and --key (PEM files)

It listens on 127.0.0.1 at a free port, prints `READY <port>` once it accepts connections, and
stops when its standard input closes (the test that started it is gone) or on SIGTERM.
"""

import argparse
import json
import logging
import mailbox
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.rcpt_attempts = {}
        self.data_attempts = {}
        self.reject = {a.lower() for a in args.reject}
        self.maildir = mailbox.Maildir(args.maildir, create=True)

    def note(self, rcpt, result):
        self.log.write(json.dumps({"rcpt": rcpt, "result": result}) + "\n")
        self.log.flush()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        n = self.rcpt_attempts.get(key, 0) + 1
        self.rcpt_attempts[key] = n
        if key in self.reject:
            self.note(address, "550")
            return "550 5.1.1 No such user here"
        if n <= self.args.fail_first:
            self.note(address, "451")
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            key = rcpt.lower()
            n = self.data_attempts.get(key, 0) + 1
            self.data_attempts[key] = n
            if n <= self.args.drop_first:
                for r in envelope.rcpt_tos:
                    self.note(r, "drop")
                server.transport.abort()
                return "421 4.4.2 Connection dropped"
        head = "X-Envelope-From: {}\r\nX-Envelope-To: {}\r\n".format(
            envelope.mail_from, ", ".join(envelope.rcpt_tos)
        ).encode()
        self.maildir.add(head + envelope.original_content)
        for rcpt in envelope.rcpt_tos:
            self.note(rcpt, "250")
        return "250 2.0.0 Message accepted"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--maildir", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--drop-first", type=int, default=0)
    p.add_argument("--reject", action="append", default=[])
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    p.add_argument("--cert")
    p.add_argument("--key")
    args = p.parse_args()

    kwargs = {}
    if args.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        if args.tls == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        else:
            kwargs.update(ssl_context=ctx)

    # Refused TLS handshakes are expected here; aiosmtpd would print each one's traceback.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    log = open(args.log, "a", encoding="utf-8")
    handler = Handler(args, log)
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="urne-test-smtp",
        # Bytes as received (decode_data=False keeps original_content), 8BITMIME and SMTPUTF8.
        enable_SMTPUTF8=True,
        **kwargs,
    )
    controller.start()
    print("READY {}".format(controller.port), flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    waiter = threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True)
    waiter.start()
    done.wait()
    controller.stop()
    log.close()


if __name__ == "__main__":
    main()
