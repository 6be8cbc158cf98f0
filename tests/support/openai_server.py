#!/usr/bin/env python3
"""A local OpenAI-compatible chat-completions server for the AI advice tests.

It checks what the real API checks, answers in the plain and the streamed (SSE) format, and can
be told to fail. The model name chooses the behaviour, `nine-<behaviour>[-<anything>]`:

    ok          a plain answer, or a stream of pieces ending with finish_reason and [DONE]
    slowstream  a stream of 20 pieces, 0.3 s apart
    slow        waits 5 s before answering
    429 / 500   the API's rate-limit / server error, in its error format
    malformed   200 with a body that is not a chat completion
    broken      200, then the connection is cut half-way (a truncated body or stream)
    empty       an answer with no text

Anything else: 404 model_not_found. Wrong key: 401. A request whose messages are not a system
and a user message with text, or whose `stream`/`max_tokens` have the wrong type: 400.
`GET /_last/<model>` returns the last request made with that model (the tests' prompt check).

    openai_server.py PORT
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "sk-ninecloud-test"
ANSWER = ["오늘 하루도 ", "정말 수고했어요. ", "마음이 무거운 날엔 ", "조금 일찍 쉬어 보세요."]
BEHAVIOURS = {"ok", "slowstream", "slow", "429", "500", "malformed", "broken", "empty"}
LAST = {}
LOCK = threading.Lock()


def error(kind, message, code=None):
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("openai-test: " + fmt % args + "\n")

    def send_json(self, status, body):
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/_last/"):
            with LOCK:
                body = LAST.get(self.path[len("/_last/"):])
            return self.send_json(200 if body else 404, body or {})
        self.send_json(404, error("invalid_request_error", "unknown path"))

    def do_POST(self):
        if self.path != "/v1/chat/completions":
            return self.send_json(404, error("invalid_request_error", f"unknown path {self.path}"))
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        if self.headers.get("authorization") != f"Bearer {API_KEY}":
            return self.send_json(401, error("invalid_request_error", "Incorrect API key provided", "invalid_api_key"))
        try:
            req = json.loads(raw)
        except ValueError:
            return self.send_json(400, error("invalid_request_error", "body is not JSON"))
        model = req.get("model")
        behaviour = model.split("-")[1] if isinstance(model, str) and model.startswith("nine-") and "-" in model else None
        if behaviour not in BEHAVIOURS:
            return self.send_json(404, error("invalid_request_error", f"The model `{model}` does not exist", "model_not_found"))
        messages = req.get("messages")
        ok_messages = (
            isinstance(messages, list) and len(messages) == 2
            and [m.get("role") for m in messages] == ["system", "user"]
            and all(isinstance(m.get("content"), str) and m["content"].strip() for m in messages)
        )
        if not ok_messages:
            return self.send_json(400, error("invalid_request_error", "messages must be a system and a user message with text"))
        stream = req.get("stream", False)
        if not isinstance(stream, bool) or ("max_tokens" in req and not isinstance(req["max_tokens"], int)):
            return self.send_json(400, error("invalid_request_error", "stream must be a boolean, max_tokens an integer"))
        with LOCK:
            LAST[model] = req
        if behaviour == "429":
            return self.send_json(429, error("requests", "Rate limit reached for requests", "rate_limit_exceeded"))
        if behaviour == "500":
            return self.send_json(500, error("server_error", "The server had an error while processing your request."))
        if behaviour == "slow":
            time.sleep(5)
        if behaviour == "malformed":
            return self.send_json(200, {"unexpected": True})
        pieces = [] if behaviour == "empty" else ANSWER
        if stream:
            return self.stream(model, behaviour, pieces)
        if behaviour == "broken":
            data = b'{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"mess'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", "400")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True
            return
        self.send_json(200, {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(pieces)},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        })

    def stream(self, model, behaviour, pieces):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def send(payload):
            data = f"data: {payload}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def chunk(delta, finish=None):
            return json.dumps({
                "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            }, ensure_ascii=False)

        try:
            send(chunk({"role": "assistant", "content": ""}))
            if behaviour == "slowstream":
                pieces = [f"조각 {i}. " for i in range(20)]
            for i, piece in enumerate(pieces):
                if behaviour == "broken" and i == 2:
                    self.close_connection = True
                    return  # no final chunk, no [DONE], no end of the chunked body
                send(chunk({"content": piece}))
                if behaviour == "slowstream":
                    time.sleep(0.3)
            send(chunk({}, "stop"))
            send("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            sys.stderr.write(f"openai-test: {model}: the client went away mid-stream\n")
            self.close_connection = True


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
