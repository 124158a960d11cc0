#!/usr/bin/python3
"""Drives an interop.v1.Echo server with python grpcio: a smoke test of the echo servers
themselves (node/echo-server.js, python/echo_server.py), independent of EventStream's code.

    /usr/bin/python3 echo_smoke.py HOST:PORT [--compressing-server] [--only a,b,...]
    /usr/bin/python3 echo_smoke.py --spawn node|python [--only a,b,...]

    HOST:PORT            an echo server already listening (default 4 MiB receive limit).
    --compressing-server the server honours `x-compress-response` (python/echo_server.py):
                         also run gzip_response.
    --spawn KIND         start node/echo-server.js or python/echo_server.py on a free port,
                         run the checks against it and stop it.
    --only LIST          run only these checks (comma-separated).

Stdout: one JSON object per line per check: {"check": "<name>", "ok": true|false, "detail": ...}.
Exit code: 0 when every check passed, 1 when some failed, 2 on bad arguments, 3 on a crash
(including a server that could not be started).
"""

import argparse
import base64
import json
import os
import queue
import subprocess
import sys
import threading
import time

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from protoset import ProtoSet  # noqa: E402

protos = ProtoSet([os.path.join(HERE, "..", "proto")], ["interop/v1/echo.proto"])
EchoRequest = protos.message("interop.v1.EchoRequest")
TIMEOUT_S = 5.0
NON_ASCII_MESSAGE = "héllo wörld: 100% ✓ 日本語 %41 end"


class CheckFailed(Exception):
    def __init__(self, detail):
        super().__init__(json.dumps(detail, default=str))
        self.detail = detail


def expect(condition, detail):
    if not condition:
        raise CheckFailed(detail)


def code_of(err):
    return err.code().value[0]


class Echo:
    """Multi-callables for the four methods on one channel."""

    def __init__(self, channel):
        self.channel = channel
        for name in ("Unary", "ServerStream", "ClientStream", "Duplex"):
            m = protos.method(f"/interop.v1.Echo/{name}")
            kind = {(False, False): "unary_unary", (False, True): "unary_stream",
                    (True, False): "stream_unary", (True, True): "stream_stream"}[
                (m.client_streaming, m.server_streaming)]
            setattr(self, name, getattr(channel, kind)(
                m.path, request_serializer=m.request.SerializeToString,
                response_deserializer=m.response.FromString))

    def cancelled_count(self):
        return self.Unary(EchoRequest(message="__cancelled_count"), timeout=TIMEOUT_S).index

    def wait_cancelled_count(self, above, seconds=5.0):
        end = time.monotonic() + seconds
        count = self.cancelled_count()
        while count <= above and time.monotonic() < end:
            time.sleep(0.05)
            count = self.cancelled_count()
        return count


CHECKS = []


def check(name, needs_compression=False):
    def register(fn):
        CHECKS.append((name, fn, needs_compression))
        return fn
    return register


@check("unary")
def unary(ctx):
    res = ctx.echo.Unary(EchoRequest(message="hello", padding=b"\0" * 1000), timeout=TIMEOUT_S)
    detail = {"message": res.message, "index": res.index, "padding_size": res.padding_size}
    expect(res.message == "hello" and res.index == 0 and res.padding_size == 1000, detail)
    return detail


@check("metadata_echo")
def metadata_echo(ctx):
    binary = bytes([0, 1, 2, 254, 255])
    res, call = ctx.echo.Unary.with_call(EchoRequest(message="md"), timeout=TIMEOUT_S, metadata=[
        ("x-echo-initial", "first"), ("x-echo-trailer", "last"), ("x-echo-trailer-bin", binary),
        ("x-custom", "value")])
    initial = dict(call.initial_metadata())
    trailing = dict(call.trailing_metadata())
    detail = {"initial": initial.get("x-echo-initial"), "trailer": trailing.get("x-echo-trailer"),
              "trailer_bin": base64.b64encode(trailing.get("x-echo-trailer-bin", b"")).decode(),
              "seen_custom": res.request_headers.get("x-custom"),
              "seen_bin": res.request_headers.get("x-echo-trailer-bin")}
    expect(initial.get("x-echo-initial") == "first" and trailing.get("x-echo-trailer") == "last"
           and trailing.get("x-echo-trailer-bin") == binary and res.request_headers.get("x-custom") == "value"
           and res.request_headers.get("x-echo-trailer-bin") == base64.b64encode(binary).decode(), detail)
    return detail


@check("server_stream")
def server_stream(ctx):
    responses = list(ctx.echo.ServerStream(EchoRequest(message="s", repeat=5, delay_ms=10), timeout=TIMEOUT_S))
    indexes = [r.index for r in responses]
    expect(indexes == [0, 1, 2, 3, 4] and all(r.message == "s" for r in responses), {"indexes": indexes})
    return {"indexes": indexes}


@check("server_stream_failure")
def server_stream_failure(ctx):
    call = ctx.echo.ServerStream(EchoRequest(message="f", repeat=2, fail_with_code=9, fail_message="stop"),
                                 timeout=TIMEOUT_S, metadata=[("x-echo-trailer", "t")])
    got = []
    try:
        for r in call:
            got.append(r.index)
    except grpc.RpcError as err:
        detail = {"indexes": got, "code": code_of(err), "details": err.details(),
                  "trailer": dict(err.trailing_metadata() or ()).get("x-echo-trailer")}
        expect(got == [0, 1] and err.code() == grpc.StatusCode.FAILED_PRECONDITION
               and err.details() == "stop" and detail["trailer"] == "t", detail)
        return detail
    raise CheckFailed({"error": "stream ended without failing", "indexes": got})


@check("client_stream")
def client_stream(ctx):
    res = ctx.echo.ClientStream(iter([EchoRequest(message=m, padding=b"x" * 10) for m in ("a", "b", "c")]),
                                timeout=TIMEOUT_S)
    detail = {"message": res.message, "index": res.index, "padding_size": res.padding_size}
    expect(res.message == "a,b,c" and res.index == 3 and res.padding_size == 30, detail)
    return detail


@check("client_stream_failure")
def client_stream_failure(ctx):
    requests = [EchoRequest(message="a"), EchoRequest(fail_with_code=7, fail_message="denied"), EchoRequest(message="c")]
    try:
        ctx.echo.ClientStream(iter(requests), timeout=TIMEOUT_S)
    except grpc.RpcError as err:
        detail = {"code": code_of(err), "details": err.details()}
        expect(err.code() == grpc.StatusCode.PERMISSION_DENIED and err.details() == "denied", detail)
        return detail
    raise CheckFailed({"error": "call succeeded"})


@check("duplex_failure")
def duplex_failure(ctx):
    requests = [EchoRequest(message="a"), EchoRequest(message="b"), EchoRequest(fail_with_code=10, fail_message="abort")]
    got = []
    try:
        for r in ctx.echo.Duplex(iter(requests), timeout=TIMEOUT_S):
            got.append(r.index)
    except grpc.RpcError as err:
        detail = {"indexes": got, "code": code_of(err), "details": err.details()}
        expect(got == [0, 1] and err.code() == grpc.StatusCode.ABORTED and err.details() == "abort", detail)
        return detail
    raise CheckFailed({"error": "stream ended without failing", "indexes": got})


@check("duplex")
def duplex(ctx):
    """Ping-pong: each response must arrive before the next request is sent."""
    outbox = queue.Queue()
    requests = iter(outbox.get, None)
    responses = ctx.echo.Duplex(requests, timeout=TIMEOUT_S)
    seen = []
    try:
        for i in range(4):
            outbox.put(EchoRequest(message=f"m{i}"))
            r = next(responses)
            seen.append((r.index, r.message))
        outbox.put(None)
        rest = list(responses)
    finally:
        outbox.put(None)
    expect(seen == [(i, f"m{i}") for i in range(4)] and rest == [], {"seen": seen, "extra": len(rest)})
    return {"seen": seen}


@check("failure_non_ascii")
def failure_non_ascii(ctx):
    try:
        ctx.echo.Unary(EchoRequest(fail_with_code=3, fail_message=NON_ASCII_MESSAGE), timeout=TIMEOUT_S,
                       metadata=[("x-echo-trailer", "on-failure")])
    except grpc.RpcError as err:
        detail = {"code": code_of(err), "details": err.details(),
                  "trailer": dict(err.trailing_metadata() or ()).get("x-echo-trailer")}
        expect(err.code() == grpc.StatusCode.INVALID_ARGUMENT and err.details() == NON_ASCII_MESSAGE
               and detail["trailer"] == "on-failure", detail)
        return detail
    raise CheckFailed({"error": "call succeeded"})


@check("deadline")
def deadline(ctx):
    before = ctx.echo.cancelled_count()
    started = time.monotonic()
    try:
        ctx.echo.Unary(EchoRequest(message="slow", delay_ms=2000), timeout=0.2)
    except grpc.RpcError as err:
        detail = {"code": code_of(err), "elapsed_ms": round((time.monotonic() - started) * 1000)}
        expect(err.code() == grpc.StatusCode.DEADLINE_EXCEEDED, detail)
        detail["cancelled_count"] = [before, ctx.echo.wait_cancelled_count(before)]
        expect(detail["cancelled_count"][1] > before, detail)
        return detail
    raise CheckFailed({"error": "call succeeded"})


@check("cancellation")
def cancellation(ctx):
    before = ctx.echo.cancelled_count()
    call = ctx.echo.ServerStream(EchoRequest(message="c", repeat=100, delay_ms=50), timeout=TIMEOUT_S)
    first = next(call)
    call.cancel()
    after = ctx.echo.wait_cancelled_count(before)
    detail = {"first_index": first.index, "cancelled_count": [before, after]}
    expect(after > before, detail)
    return detail


@check("gzip_request")
def gzip_request(ctx):
    res = ctx.echo.Unary(EchoRequest(message="zipped", padding=b"\0" * 100000), timeout=TIMEOUT_S,
                         compression=grpc.Compression.Gzip)
    detail = {"message": res.message, "padding_size": res.padding_size}
    expect(res.message == "zipped" and res.padding_size == 100000, detail)
    return detail


@check("gzip_response", needs_compression=True)
def gzip_response(ctx):
    res, call = ctx.echo.Unary.with_call(EchoRequest(message="z" * 10000), timeout=TIMEOUT_S,
                                         metadata=[("x-compress-response", "gzip")])
    detail = {"size": len(res.message), "initial": {k: v for k, v in call.initial_metadata()}}
    expect(res.message == "z" * 10000, detail)
    return detail


@check("max_receive_size")
def max_receive_size(ctx):
    try:
        ctx.echo.Unary(EchoRequest(message="big", padding=b"\1" * (5 * 1024 * 1024)), timeout=TIMEOUT_S)
    except grpc.RpcError as err:
        detail = {"code": code_of(err), "details": err.details()}
        expect(err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, detail)
        detail["after"] = ctx.echo.Unary(EchoRequest(message="ok"), timeout=TIMEOUT_S).message
        return detail
    raise CheckFailed({"error": "call succeeded"})


def spawn(kind):
    interop = os.path.dirname(HERE)
    if kind == "node":
        cmd = ["node", os.path.join(interop, "node", "echo-server.js"), "0"]
    else:
        cmd = [sys.executable, os.path.join(HERE, "echo_server.py"), "0"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = proc.stdout.readline()
    try:
        port = json.loads(line)["port"]
    except (ValueError, KeyError) as e:
        proc.kill()
        raise RuntimeError(f"{cmd} did not report a port: {line!r}") from e
    return proc, f"127.0.0.1:{port}"


class Context:
    pass


def main(argv):
    parser = argparse.ArgumentParser(description="smoke test for the interop.v1.Echo servers")
    parser.add_argument("address", nargs="?")
    parser.add_argument("--spawn", choices=["node", "python"])
    parser.add_argument("--compressing-server", action="store_true")
    parser.add_argument("--only")
    args = parser.parse_args(argv)
    if bool(args.address) == bool(args.spawn):
        parser.error("give either HOST:PORT or --spawn")
    by_name = {name: (fn, needs) for name, fn, needs in CHECKS}
    names = [n.strip() for n in args.only.split(",")] if args.only else [n for n, _, _ in CHECKS]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        parser.error(f"unknown check(s): {', '.join(unknown)}")

    proc = None
    if args.spawn:
        proc, args.address = spawn(args.spawn)
        args.compressing_server = args.spawn == "python"
    try:
        ctx = Context()
        ctx.channel = grpc.insecure_channel(args.address, options=[
            ("grpc.enable_http_proxy", 0), ("grpc.max_send_message_length", 64 * 1024 * 1024)])
        ctx.echo = Echo(ctx.channel)
        failures = 0
        for name in names:
            fn, needs_compression = by_name[name]
            if needs_compression and not args.compressing_server:
                continue
            try:
                ok, detail = True, fn(ctx)
            except CheckFailed as e:
                ok, detail = False, e.detail
            except grpc.RpcError as e:
                ok, detail = False, {"error": e.details(), "code": code_of(e)}
            except Exception as e:  # reported as a failed check
                ok, detail = False, {"error": f"{type(e).__name__}: {e}"}
            failures += 0 if ok else 1
            print(json.dumps({"check": name, "ok": ok, "detail": detail}, ensure_ascii=False, default=str), flush=True)
        ctx.channel.close()
        return 0 if failures == 0 else 1
    finally:
        if proc:
            proc.stdin.close()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except SystemExit:
        raise
    except BaseException as crash:
        print(f"echo_smoke: crashed: {type(crash).__name__}: {crash}", file=sys.stderr)
        code = 3
    sys.stdout.flush()
    os._exit(code)
