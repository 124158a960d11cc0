#!/usr/bin/python3
"""grpcio (gRPC C core) server for interop.v1.Echo, the counterpart of node/echo-server.js.

It behaves the same (see proto/interop/v1/echo.proto) and can also compress its responses,
which grpc-js servers cannot: per call when the request metadata has
`x-compress-response: gzip` (or `deflate`), or for every call with --compress.

    /usr/bin/python3 echo_server.py [PORT] [--host 127.0.0.1] [--max-receive-bytes N]
                                    [--compress gzip|deflate] [--ignore-stdin]

    PORT                  port to listen on; 0 or omitted picks a free one.
    --max-receive-bytes N largest request message accepted (default 4194304 = 4 MiB).
    --compress ALG        compress every response with ALG.
    --ignore-stdin        keep running when stdin closes (for manual runs).

Stdout: exactly one line, `{"port": N}`, once the server is listening. Diagnostics go to
stderr. Exits 0 on SIGTERM/SIGINT or when stdin reaches end of file, non-zero if it cannot
listen. Unary with message "__cancelled_count" answers with the number of calls that ended
without the handler finishing them (client cancellation or deadline), in `message` and
`index`; cancellations reach the server asynchronously, so poll.
"""

import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protoset import ProtoSet  # noqa: E402

PROTO_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "proto"))
CANCELLED_COUNT_QUERY = "__cancelled_count"
STATUS_BY_NUMBER = {s.value[0]: s for s in grpc.StatusCode}
COMPRESSION = {"gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate,
               "identity": grpc.Compression.NoCompression}

protos = ProtoSet([PROTO_DIR], ["interop/v1/echo.proto"])
EchoResponse = protos.message("interop.v1.EchoResponse")


class Echo:
    def __init__(self, compress):
        self.compress = compress
        self.cancelled = 0
        self.lock = threading.Lock()

    # helpers
    def start(self, context):
        """Per-call setup: cancellation tracking, compression, initial metadata."""
        state = {"finished": False}

        def on_done():
            if not state["finished"]:
                with self.lock:
                    self.cancelled += 1

        context.add_callback(on_done)
        md = context.invocation_metadata()
        wanted = next((v for k, v in md if k == "x-compress-response"), None) or self.compress
        if wanted in COMPRESSION:
            context.set_compression(COMPRESSION[wanted])
        initial = [(k, v) for k, v in md if k == "x-echo-initial"]
        if initial:
            context.send_initial_metadata(initial)
        return state

    @staticmethod
    def headers(context):
        out = {}
        for key, value in context.invocation_metadata():
            text = base64.b64encode(value).decode() if key.endswith("-bin") else value
            out[key] = f"{out[key]},{text}" if key in out else text
        return out

    @staticmethod
    def trailers(context):
        return [(k, v) for k, v in context.invocation_metadata() if k in ("x-echo-trailer", "x-echo-trailer-bin")]

    def finish_ok(self, state, context):
        state["finished"] = True
        context.set_trailing_metadata(self.trailers(context))

    def fail(self, state, context, req):
        state["finished"] = True
        context.set_trailing_metadata(self.trailers(context))
        context.abort(STATUS_BY_NUMBER.get(req.fail_with_code, grpc.StatusCode.UNKNOWN), req.fail_message)

    @staticmethod
    def sleep(context, ms):
        """Sleeps, waking early when the call ends; returns False if the call is gone."""
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            if not context.is_active():
                return False
            time.sleep(min(0.01, max(0.0, end - time.monotonic())))
        return context.is_active()

    def response(self, context, message, index, padding_size):
        return EchoResponse(message=message, index=index, request_headers=self.headers(context),
                            padding_size=padding_size)

    # methods
    def Unary(self, req, context):
        state = self.start(context)
        if req.message == CANCELLED_COUNT_QUERY:
            with self.lock:
                count = self.cancelled
            state["finished"] = True
            return self.response(context, str(count), count, 0)
        if not self.sleep(context, req.delay_ms):
            return None
        if req.fail_with_code:
            self.fail(state, context, req)
        self.finish_ok(state, context)
        return self.response(context, req.message, 0, len(req.padding))

    def ServerStream(self, req, context):
        state = self.start(context)
        for i in range(req.repeat):
            if not self.sleep(context, req.delay_ms):
                return
            yield self.response(context, req.message, i, len(req.padding))
        if req.repeat <= 0 and not self.sleep(context, req.delay_ms):
            return
        if req.fail_with_code:
            self.fail(state, context, req)
        self.finish_ok(state, context)

    def ClientStream(self, requests, context):
        state = self.start(context)
        messages, padding = [], 0
        try:
            for req in requests:
                if not self.sleep(context, req.delay_ms):
                    return None
                if req.fail_with_code:
                    self.fail(state, context, req)
                messages.append(req.message)
                padding += len(req.padding)
        except grpc.RpcError:
            return None  # the call went away while reading
        self.finish_ok(state, context)
        return self.response(context, ",".join(messages), len(messages), padding)

    def Duplex(self, requests, context):
        state = self.start(context)
        try:
            for index, req in enumerate(requests):
                if not self.sleep(context, req.delay_ms):
                    return
                if req.fail_with_code:
                    self.fail(state, context, req)
                yield self.response(context, req.message, index, len(req.padding))
        except grpc.RpcError:
            return
        self.finish_ok(state, context)


def serve(args):
    echo = Echo(args.compress)
    handlers = {}
    for name in ("Unary", "ServerStream", "ClientStream", "Duplex"):
        m = protos.method(f"/interop.v1.Echo/{name}")
        make = {(False, False): grpc.unary_unary_rpc_method_handler,
                (False, True): grpc.unary_stream_rpc_method_handler,
                (True, False): grpc.stream_unary_rpc_method_handler,
                (True, True): grpc.stream_stream_rpc_method_handler}[(m.client_streaming, m.server_streaming)]
        handlers[name] = make(getattr(echo, name), request_deserializer=m.request.FromString,
                              response_serializer=m.response.SerializeToString)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32), options=[
        ("grpc.max_receive_message_length", args.max_receive_bytes),
        ("grpc.so_reuseport", 0),
    ])
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("interop.v1.Echo", handlers)])
    try:
        port = server.add_insecure_port(f"{args.host}:{args.port}")
    except RuntimeError as e:
        port, error = 0, e
    else:
        error = None
    if not port:
        print(f"echo_server: cannot listen on {args.host}:{args.port}: {error or 'bind failed'}", file=sys.stderr)
        return 1
    server.start()

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    if not args.ignore_stdin:
        def watch_stdin():
            try:
                while sys.stdin.buffer.read1(4096):
                    pass
            except (OSError, ValueError):
                pass
            stopped.set()
        threading.Thread(target=watch_stdin, daemon=True).start()

    print(json.dumps({"port": port}), flush=True)
    while not stopped.wait(0.5):
        pass
    server.stop(0)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description="grpcio interop.v1.Echo server")
    parser.add_argument("port", nargs="?", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--max-receive-bytes", type=int, default=4 * 1024 * 1024)
    parser.add_argument("--compress", choices=["gzip", "deflate"])
    parser.add_argument("--ignore-stdin", action="store_true")
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
