"""A real SMTP server for the tests (aiosmtpd): every message it accepts is decoded and kept as
JSON in OUTDIR, one file per recipient, so a test can read the sign-up code a user would read.

usage: python3 smtp_sink.py PORT OUTDIR
"""
import asyncio
import email
import json
import os
import sys
import time
from email import policy

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, outdir):
        self.outdir = outdir

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "text": plain.get_content() if plain else "",
            "html": html.get_content() if html else "",
        }
        for rcpt in envelope.rcpt_tos:
            name = f"{rcpt.lower()}-{time.time_ns()}.json"
            tmp = os.path.join(self.outdir, "." + name)
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(record, f, ensure_ascii=False)
            os.replace(tmp, os.path.join(self.outdir, name))
        return "250 Message accepted"


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    controller = Controller(Keep(outdir), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"smtp sink on 127.0.0.1:{port}, keeping mail in {outdir}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
