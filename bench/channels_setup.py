#!/usr/bin/env python3
"""Prepares ninecloud for the many-rooms scenario (scripts/bench.sh): one account, made the way
a user makes one (sign-up, the code, sign-in) and R channels it creates over REST. Prints
`TOKEN CHANNEL_IDS` (ids comma-separated) for `loadgen --protocol channels`.

With no SMTP configured ninecloud writes the sign-up code to its log (the embedded default);
this reads it from there, so the server must log `ninecloud::mail` at info.

    channels_setup.py http://127.0.0.1:PORT SERVER_LOG ROOMS
"""
import json
import re
import sys
import time
import urllib.request
import uuid

PASSWORD = "bench9pw!"


def call(base, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.headers, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read() or b"null")


def logged_code(log, email):
    # tracing's text format: ... to="<email>" code="123456" sign-up code ...
    pattern = re.compile(r'to="?' + re.escape(email) + r'"?\s+code="?(\w+)')
    for _ in range(100):
        with open(log, encoding="utf-8", errors="replace") as f:
            found = pattern.findall(re.sub(r"\x1b\[[0-9;]*m", "", f.read()))
        if found:
            return found[-1]
        time.sleep(0.05)
    sys.exit(f"channels_setup: no sign-up code for {email} in {log}")


def main():
    base, log, rooms = sys.argv[1], sys.argv[2], int(sys.argv[3])
    email = f"{uuid.uuid4().hex}@bench.test"
    user = {"email": email, "password": PASSWORD, "username": "bench"}
    status, _, body = call(base, "POST", "/signup", user)
    if status != 201:
        sys.exit(f"channels_setup: signup answered {status} {body}")
    code = logged_code(log, email)
    status, _, body = call(base, "POST", "/complete-signup", {**user, "Authenticationcode": code})
    if status != 201:
        sys.exit(f"channels_setup: complete-signup answered {status} {body}")
    status, headers, body = call(base, "POST", "/signin", {"email": email, "password": PASSWORD})
    if status != 200:
        sys.exit(f"channels_setup: signin answered {status} {body}")
    token = headers["authorization"].removeprefix("Bearer ").strip()
    ids = []
    for i in range(rooms):
        status, _, body = call(base, "POST", "/channels", {"name": f"bench room {i}"}, token)
        if status != 201:
            sys.exit(f"channels_setup: creating a channel answered {status} {body}")
        ids.append(str(body["channel"]["id"]))
    print(token, ",".join(ids))


if __name__ == "__main__":
    main()
