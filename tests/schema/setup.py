#!/usr/bin/env python3
"""Prepares a ninecloud server for the schemathesis run (scripts/test.sh): an account made the
way a user makes one, and one of each thing the API's ids point at (a diary with a drawing, a
comment, a reply, a channel), so the run reaches the handlers' real work instead of 404s.
Prints `export NAME=value` lines for tests/schema/schemathesis.toml.

    setup.py http://127.0.0.1:PORT SERVER_LOG
"""
import json
import struct
import sys
import urllib.request
import uuid
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from channels_setup import PASSWORD, call, logged_code  # noqa: E402


def png(width=4, height=3):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes([200, 120, 40, 255]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def post_form(base, path, fields, files, token):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, mime) in files.items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {mime}\r\n\r\n").encode()
        parts.append(head + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(base + path, data=body, method="POST")
    req.add_header("content-type", f"multipart/form-data; boundary={boundary}")
    req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as res:
        return res.status, json.loads(res.read())


def account(base, log, name):
    email = f"{uuid.uuid4().hex[:12]}@schema.test"
    user = {"email": email, "password": PASSWORD, "username": name}
    for path, body, want in [("/signup", user, 201),
                             ("/complete-signup", None, 201),
                             ("/signin", {"email": email, "password": PASSWORD}, 200)]:
        if body is None:
            body = {**user, "Authenticationcode": logged_code(log, email)}
        status, headers, answer = call(base, "POST", path, body)
        if status != want:
            sys.exit(f"setup: {path} answered {status} {answer}")
    return email, headers["authorization"].removeprefix("Bearer ").strip()


def main():
    base, log = sys.argv[1], sys.argv[2]
    _, token = account(base, log, "schema")
    _, other = account(base, log, "revoke")
    fields = {"EmotionStatus": "3.5", "content": "<p>오늘은 맑음</p>", "isPublic": "true",
              "weather": "3", "temperature": "4", "humid": "2", "sleep": "5", "sentence": "좋은 하루"}
    status, diary = post_form(base, "/diary/posting", fields, {"image": ("blob", png(), "image/png")}, token)
    if status != 201:
        sys.exit(f"setup: posting answered {status} {diary}")
    diary_id = diary["data"]["diaryId"]
    status, _, comment = call(base, "POST", f"/diary/detail/comment/{diary_id}", {"content": "첫 댓글"}, token)
    if status != 201:
        sys.exit(f"setup: comment answered {status} {comment}")
    comment_id = comment["data"]["commentId"]
    status, _, reply = call(base, "POST", f"/diary/detail/secondaryComment/{diary_id}/{comment_id}",
                            {"content": "첫 답글"}, token)
    if status != 201:
        sys.exit(f"setup: reply answered {status} {reply}")
    reply_id = reply["data"]["secondaryCommentId"]
    status, _, channel = call(base, "POST", "/channels", {"name": "schema room"}, token)
    if status != 201:
        sys.exit(f"setup: channel answered {status} {channel}")
    print(f"export NC_TOKEN={token} NC_OTHER_TOKEN={other} NC_DIARY_ID={diary_id} "
          f"NC_COMMENT_ID={comment_id} NC_REPLY_ID={reply_id} NC_CHANNEL_ID={channel['channel']['id']}")


if __name__ == "__main__":
    main()
