#!/usr/bin/python3
"""Checks a running EventStream broker with python grpcio (gRPC C core), no generated code.

Run with the system python, which has Debian's python3-grpcio and python3-protobuf:

    /usr/bin/python3 broker_checks.py HOST:PORT [--expect SERVING|NOT_SERVING]
                                      [--only a,b,...] [--timeout-ms N]
                                      [--redirect-group G --redirect-topic T --coordinator URL]

    HOST:PORT       the broker's plaintext (h2c) gRPC address, e.g. 127.0.0.1:5000.
    --expect S      the status health_check and health_watch_stream expect (default SERVING).
    --only LIST     run only these checks (comma-separated names, in the order given).
    --timeout-ms N  a check that takes longer is reported as failed (default 10000).
    --redirect-group, --redirect-topic, --coordinator
                    for coordinator_redirect: a group another broker (at URL) runs; without
                    them that check reports itself skipped.

Stdout: one JSON object per line per check, in order:
    {"check": "<name>", "ok": true|false, "detail": <any JSON>}
`detail` says what was seen or, when ok is false, why (`{"error": ..., "code": <gRPC status>}`).
Diagnostics go to stderr.
Exit code: 0 when every check passed, 1 when some check failed (all still reported),
2 on bad arguments, 3 when the script itself crashed.

Messages come from the contract in proto/ at run time (see protoset.py). To add a check,
write a function `def my_check(ctx): ...` decorated with `@check("my_check")` that returns a
JSON-able detail, or raises CheckFailed(detail) / lets a grpc.RpcError escape. Checks run in
the order they are defined; `ctx.call(path, request)` makes a unary call by gRPC path and
`ctx.message(name)` gives a message class.
"""

import argparse
import json
import os
import sys
import threading
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protoset import ProtoSet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# The contract, and the standard health and reflection schemas an outside client brings itself.
PROTO_DIRS = [os.path.normpath(os.path.join(HERE, "..", "..", "..", "proto")), os.path.normpath(os.path.join(HERE, "..", "proto"))]
CONTRACT_FILES = [
    "eventstream/v1/admin.proto",
    "eventstream/v1/producer.proto",
    "eventstream/v1/consumer.proto",
    "eventstream/v1/reader.proto",
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1/reflection.proto",
    "grpc/reflection/v1alpha/reflection.proto",
]
REQUIRED_SERVICES = [
    "eventstream.v1.Admin",
    "eventstream.v1.Producer",
    "eventstream.v1.Consumer",
    "eventstream.v1.Reader",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
]
CALL_TIMEOUT_S = 5.0
# Loopback targets must not go through an http_proxy from the environment.
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]
SERVING_STATUS = "grpc.health.v1.HealthCheckResponse.ServingStatus"


class CheckFailed(Exception):
    def __init__(self, detail):
        super().__init__(json.dumps(detail, default=str))
        self.detail = detail


def code_of(err):
    """The numeric gRPC status of an RpcError."""
    return err.code().value[0]


def error_detail(err):
    if isinstance(err, CheckFailed):
        return err.detail
    if isinstance(err, grpc.RpcError) and hasattr(err, "code"):
        return {"error": err.details(), "code": code_of(err)}
    return {"error": f"{type(err).__name__}: {err}"}


class Context:
    def __init__(self, address, expect, protos, redirect=None):
        self.address = address
        self.redirect = redirect
        self.expect = expect
        self.protos = protos
        self.channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)

    def message(self, full_name):
        return self.protos.message(full_name)

    def callable(self, path, channel=None):
        """A grpcio multi-callable for a method of the contract, chosen by its streaming kind."""
        m = self.protos.method(path)
        kind = {(False, False): "unary_unary", (False, True): "unary_stream",
                (True, False): "stream_unary", (True, True): "stream_stream"}[
            (m.client_streaming, m.server_streaming)]
        return getattr(channel or self.channel, kind)(
            m.path, request_serializer=m.request.SerializeToString,
            response_deserializer=m.response.FromString)

    def call(self, path, request, timeout=CALL_TIMEOUT_S, channel=None, metadata=None):
        return self.callable(path, channel)(request, timeout=timeout, metadata=metadata)

    def reflect(self, version, **request_fields):
        """One ServerReflectionInfo exchange; returns the first response."""
        package = f"grpc.reflection.{version}"
        request = self.message(f"{package}.ServerReflectionRequest")(**request_fields)
        responses = self.callable(f"/{package}.ServerReflection/ServerReflectionInfo")(
            iter([request]), timeout=CALL_TIMEOUT_S)
        try:
            for response in responses:
                if response.WhichOneof("message_response") == "error_response":
                    raise CheckFailed({"error": response.error_response.error_message,
                                       "code": response.error_response.error_code,
                                       "request": request_fields})
                return response
        finally:
            responses.cancel()
        raise CheckFailed({"error": "reflection stream ended without a response", "request": request_fields})

    def health_status(self):
        res = self.call("/grpc.health.v1.Health/Check", self.message("grpc.health.v1.HealthCheckRequest")(service=""))
        return self.protos.enum_value(SERVING_STATUS, res.status)

    def close(self):
        self.channel.close()


CHECKS = []


def check(name):
    def register(fn):
        CHECKS.append((name, fn))
        return fn
    return register


def expect_failure(fn):
    """Runs fn, which must fail with an RpcError; returns that error."""
    try:
        result = fn()
    except grpc.RpcError as err:
        return err
    raise CheckFailed({"error": "call succeeded", "response": str(result)})


@check("health_check")
def health_check(ctx):
    status = ctx.health_status()
    detail = {"status": status, "expected": ctx.expect}
    if status != ctx.expect:
        raise CheckFailed(detail)
    return detail


def list_services(ctx, version):
    response = ctx.reflect(version, list_services="*")
    services = [s.name for s in response.list_services_response.service]
    missing = [s for s in REQUIRED_SERVICES if s not in services]
    detail = {"version": version, "services": services, "missing": missing}
    if missing:
        raise CheckFailed(detail)
    return detail


@check("reflection_list")
def reflection_list(ctx):
    return list_services(ctx, "v1")


@check("reflection_v1alpha")
def reflection_v1alpha(ctx):
    return list_services(ctx, "v1alpha")


@check("reflection_file_containing_symbol")
def reflection_file_containing_symbol(ctx):
    """Fetches Admin's file and, by file name, every file it depends on (as grpcurl does),
    then loads them into a fresh descriptor pool and compares CreateTopic with the contract."""
    files = {}

    def add(response):
        for raw in response.file_descriptor_response.file_descriptor_proto:
            fdp = descriptor_pb2.FileDescriptorProto.FromString(raw)
            files.setdefault(fdp.name, fdp)

    add(ctx.reflect("v1", file_containing_symbol="eventstream.v1.Admin"))
    admin_file = next((f.name for f in files.values()
                       if f.package == "eventstream.v1" and any(s.name == "Admin" for s in f.service)), None)
    if admin_file is None:
        raise CheckFailed({"error": "no file with service eventstream.v1.Admin", "files": sorted(files)})
    pending = [admin_file]
    while pending:
        for dep in files[pending.pop()].dependency:
            if dep not in files:
                add(ctx.reflect("v1", file_by_filename=dep))
                if dep not in files:
                    raise CheckFailed({"error": f"dependency {dep} not served", "files": sorted(files)})
            pending.append(dep)

    pool = descriptor_pool.DescriptorPool()
    added = set()

    def load(name):
        if name in added:
            return
        for dep in files[name].dependency:
            load(dep)
        pool.AddSerializedFile(files[name].SerializeToString())
        added.add(name)

    load(admin_file)
    service = pool.FindServiceByName("eventstream.v1.Admin")
    methods = [m.name for m in service.methods]
    detail = {"file": admin_file, "files": sorted(files), "methods": methods}
    create = service.methods_by_name.get("CreateTopic")
    if create is None:
        raise CheckFailed(detail)
    detail["create_topic"] = {"request": create.input_type.full_name, "response": create.output_type.full_name}
    expected = ctx.message("eventstream.v1.CreateTopicRequest").DESCRIPTOR
    seen = sorted((f.name, f.number, f.type) for f in create.input_type.fields)
    want = sorted((f.name, f.number, f.type) for f in expected.fields)
    if create.input_type.full_name != expected.full_name or seen != want \
            or create.output_type.full_name != "eventstream.v1.Topic":
        detail["request_fields"] = {"served": seen, "contract": want}
        raise CheckFailed(detail)
    return detail


@check("health_watch_stream")
def health_watch_stream(ctx):
    responses = ctx.call("/grpc.health.v1.Health/Watch", ctx.message("grpc.health.v1.HealthCheckRequest")(service=""))
    try:
        first = next(responses, None)
    finally:
        responses.cancel()
    if first is None:
        raise CheckFailed({"error": "stream ended without a message"})
    status = ctx.protos.enum_value(SERVING_STATUS, first.status)
    detail = {"first_status": status, "expected": ctx.expect}
    if status != ctx.expect:
        raise CheckFailed(detail)
    return detail


@check("unknown_method")
def unknown_method(ctx):
    call = ctx.channel.unary_unary("/eventstream.v1.Nope/Missing")  # raw bytes both ways
    err = expect_failure(lambda: call(b"", timeout=CALL_TIMEOUT_S))
    detail = {"code": code_of(err), "details": err.details(), "expected": grpc.StatusCode.UNIMPLEMENTED.value[0]}
    if err.code() != grpc.StatusCode.UNIMPLEMENTED:
        raise CheckFailed(detail)
    return detail


@check("oversized_message")
def oversized_message(ctx):
    big = 64 * 1024 * 1024
    channel = grpc.insecure_channel(ctx.address, options=CHANNEL_OPTIONS + [
        ("grpc.max_send_message_length", big), ("grpc.max_receive_message_length", big)])
    try:
        # Health/Check is served from the start, so the size limit is what answers.
        request = ctx.message("grpc.health.v1.HealthCheckRequest")(service="x" * (5 * 1024 * 1024))
        err = expect_failure(lambda: ctx.call("/grpc.health.v1.Health/Check", request, timeout=15, channel=channel))
    finally:
        channel.close()
    detail = {"code": code_of(err), "details": err.details(), "expected": grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]}
    try:
        detail["health_after"] = ctx.health_status()
    except grpc.RpcError as e:
        detail["health_after"] = error_detail(e)
    if err.code() != grpc.StatusCode.RESOURCE_EXHAUSTED or detail["health_after"] != ctx.expect:
        raise CheckFailed(detail)
    return detail


@check("deadline_exceeded")
def deadline_exceeded(ctx):
    started = time.monotonic()
    responses = ctx.call("/grpc.health.v1.Health/Watch", ctx.message("grpc.health.v1.HealthCheckRequest")(service=""),
                         timeout=0.3)
    messages = 0
    try:
        for _ in responses:
            messages += 1
    except grpc.RpcError as err:
        detail = {"code": code_of(err), "details": err.details(), "messages": messages,
                  "elapsed_ms": round((time.monotonic() - started) * 1000),
                  "expected": grpc.StatusCode.DEADLINE_EXCEEDED.value[0]}
        if err.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
            raise CheckFailed(detail)
        return detail
    raise CheckFailed({"error": "stream ended before the deadline", "messages": messages})


@check("produce_poll_commit")
def produce_poll_commit(ctx):
    """What a grpcurl user does: create a topic, produce text, poll it back as text, commit."""
    suffix = f"{os.getpid()}-{int(time.time() * 1000)}"
    topic, group = f"interop-py-{suffix}", f"interop-py-{suffix}"
    ctx.call("/eventstream.v1.Admin/CreateTopic", ctx.message("eventstream.v1.CreateTopicRequest")(name=topic))
    EventData = ctx.message("eventstream.v1.EventData")
    produced = ctx.call("/eventstream.v1.Producer/Produce", ctx.message("eventstream.v1.ProduceRequest")(
        topic=topic, events=[EventData(key_text=f"k{i % 3}", text=f"hello {i}") for i in range(10)]))
    Subscription = ctx.message("eventstream.v1.Subscription")
    StartPoint = ctx.message("eventstream.v1.StartPoint")
    Duration = ctx.message("google.protobuf.Duration")
    subscription = Subscription(group=group, topics=[topic], start=StartPoint(kind=1),  # KIND_EARLIEST
                                payload_format=1)  # PAYLOAD_FORMAT_TEXT
    texts, member, commits = [], "", []
    deadline = time.monotonic() + 30
    while len(texts) < 10 and time.monotonic() < deadline:
        subscription.member_id = member
        polled = ctx.call("/eventstream.v1.Consumer/Poll", ctx.message("eventstream.v1.PollRequest")(
            subscription=subscription, max_events=100, max_wait=Duration(nanos=300_000_000)), timeout=35)
        member = polled.member_id
        texts += [e.text for e in polled.events]
        if polled.commits:
            ctx.call("/eventstream.v1.Consumer/Commit", ctx.message("eventstream.v1.CommitRequest")(
                group=group, member_id=member, commits=polled.commits))
            commits += polled.commits
    detail = {"produced": len(produced.shards), "received": len(texts), "member_id": member, "commits": len(commits)}
    if sorted(texts) != sorted(f"hello {i}" for i in range(10)):
        raise CheckFailed(dict(detail, texts=texts))
    # A commit under an epoch the member never held is fenced off.
    stale = commits[0]
    stale.epoch += 1000
    err = expect_failure(lambda: ctx.call("/eventstream.v1.Consumer/Commit", ctx.message("eventstream.v1.CommitRequest")(
        group=group, member_id=member, commits=[stale])))
    detail["stale_commit"] = code_of(err)
    if err.code() != grpc.StatusCode.FAILED_PRECONDITION:
        raise CheckFailed(detail)
    ctx.call("/eventstream.v1.Consumer/Leave", ctx.message("eventstream.v1.LeaveRequest")(group=group, member_id=member))
    return detail



@check("read_without_group")
def read_without_group(ctx):
    """What a grpcurl user does to look at a topic: Reader/Read from the earliest event, no group."""
    topic = f"interop-py-read-{os.getpid()}-{int(time.time() * 1000)}"
    ctx.call("/eventstream.v1.Admin/CreateTopic", ctx.message("eventstream.v1.CreateTopicRequest")(name=topic))
    EventData = ctx.message("eventstream.v1.EventData")
    ctx.call("/eventstream.v1.Producer/Produce", ctx.message("eventstream.v1.ProduceRequest")(
        topic=topic, events=[EventData(key_text="k", text=f"read {i}") for i in range(5)]))
    request = ctx.message("eventstream.v1.ReadRequest")(
        topic=topic, start=ctx.message("eventstream.v1.StartPoint")(kind=1),  # KIND_EARLIEST
        max_events=4, payload_format=1)  # PAYLOAD_FORMAT_TEXT
    texts = [e.text for answer in ctx.callable("/eventstream.v1.Reader/Read")(request, timeout=CALL_TIMEOUT_S) for e in answer.events]
    detail = {"texts": texts}
    if texts != [f"read {i}" for i in range(4)]:
        raise CheckFailed(detail)
    err = expect_failure(lambda: list(ctx.callable("/eventstream.v1.Reader/Read")(
        ctx.message("eventstream.v1.ReadRequest")(topic=topic, max_events=-1), timeout=CALL_TIMEOUT_S)))
    detail["negative_max_events"] = code_of(err)
    if err.code() != grpc.StatusCode.INVALID_ARGUMENT or "max_events" not in err.details():
        raise CheckFailed(dict(detail, message=err.details()))
    return detail


@check("large_events")
def large_events(ctx):
    """Backlogs on one key larger than one 4 MiB message holds (600 events of 10 KiB, 6 of 900 KiB):
    produced in requests under the broker's receive limit, polled back in answers under its send
    limit and committed; then pushed to a Subscribe session in batches under that limit."""
    return {f"{count}x{size // 1024}KiB": large_backlog(ctx, count, size, per_request)
            for count, size, per_request in [(600, 10 * 1024, 100), (6, 900 * 1024, 3)]}


def large_backlog(ctx, count, size, per_request):
    suffix = f"{os.getpid()}-{int(time.time() * 1000)}-{count}"
    topic, group = f"interop-py-large-{suffix}", f"interop-py-large-{suffix}"
    ctx.call("/eventstream.v1.Admin/CreateTopic", ctx.message("eventstream.v1.CreateTopicRequest")(name=topic))
    EventData = ctx.message("eventstream.v1.EventData")

    def payload(i):
        head = f"e{i}:".encode()
        return head + bytes([ord("a") + i % 26]) * (size - len(head))

    for first in range(0, count, per_request):
        ctx.call("/eventstream.v1.Producer/Produce", ctx.message("eventstream.v1.ProduceRequest")(
            topic=topic, events=[EventData(key_text="one-key", data=payload(i))
                                 for i in range(first, min(first + per_request, count))]), timeout=30)
    Subscription = ctx.message("eventstream.v1.Subscription")
    StartPoint = ctx.message("eventstream.v1.StartPoint")
    Duration = ctx.message("google.protobuf.Duration")
    subscription = Subscription(group=group, topics=[topic], start=StartPoint(kind=1))  # KIND_EARLIEST
    received, answers, member = [], [], ""
    deadline = time.monotonic() + 45
    while len(received) < count and time.monotonic() < deadline:
        subscription.member_id = member
        polled = ctx.call("/eventstream.v1.Consumer/Poll", ctx.message("eventstream.v1.PollRequest")(
            subscription=subscription, max_events=100, max_wait=Duration(nanos=300_000_000)), timeout=35)
        member = polled.member_id
        if polled.events:
            answers.append({"events": len(polled.events), "bytes": polled.ByteSize()})
            received += list(polled.events)
            ctx.call("/eventstream.v1.Consumer/Commit", ctx.message("eventstream.v1.CommitRequest")(
                group=group, member_id=member, commits=polled.commits))
    detail = {"produced": count, "received": len(received), "answers": answers}
    if [e.data for e in received] != [payload(i) for i in range(count)]:
        detail["payload_heads"] = [e.data[:8].decode(errors="replace") for e in received]
        raise CheckFailed(detail)
    # Everything was committed: nothing comes again.
    subscription.member_id = member
    again = ctx.call("/eventstream.v1.Consumer/Poll", ctx.message("eventstream.v1.PollRequest")(
        subscription=subscription, max_events=100, max_wait=Duration()))
    detail["after_commit"] = len(again.events)
    ctx.call("/eventstream.v1.Consumer/Leave", ctx.message("eventstream.v1.LeaveRequest")(group=group, member_id=member))
    if again.events or len(answers) < 2:
        raise CheckFailed(detail)
    detail["subscribe"] = subscribe_backlog(ctx, topic, f"{group}-subscribe", [payload(i) for i in range(count)])
    return detail


def subscribe_backlog(ctx, topic, group, expected):
    """A Subscribe session of a new group reads the backlog back from earliest: pushed batches
    under the send limit, each committed on the session's own stream as it arrives."""
    import queue
    Subscription = ctx.message("eventstream.v1.Subscription")
    StartPoint = ctx.message("eventstream.v1.StartPoint")
    SubscribeRequest = ctx.message("eventstream.v1.SubscribeRequest")
    CommitRequest = ctx.message("eventstream.v1.CommitRequest")
    ShardCommit = ctx.message("eventstream.v1.ShardCommit")
    requests = queue.Queue()
    requests.put(SubscribeRequest(join=Subscription(group=group, topics=[topic], start=StartPoint(kind=1))))  # KIND_EARLIEST

    def outgoing():
        while (request := requests.get()) is not None:
            yield request

    responses = ctx.callable("/eventstream.v1.Consumer/Subscribe")(outgoing(), timeout=60)
    received, batches, member = [], [], ""
    try:
        for response in responses:
            kind = response.WhichOneof("response")
            if kind == "joined":
                member = response.joined.member_id
            elif kind == "events":
                batch = response.events
                batches.append({"events": len(batch.events), "bytes": response.ByteSize()})
                received += [e.data for e in batch.events]
                requests.put(SubscribeRequest(commit=CommitRequest(group=group, member_id=member, commits=[
                    ShardCommit(shard=batch.shard, epoch=batch.epoch, position=batch.events[-1].position)])))
                if len(received) >= len(expected):
                    break
    finally:
        requests.put(None)
        responses.cancel()
    detail = {"received": len(received), "batches": len(batches), "largest_batch_bytes": max((b["bytes"] for b in batches), default=0)}
    if received != expected:
        detail["payload_heads"] = [d[:8].decode(errors="replace") for d in received]
        raise CheckFailed(detail)
    ctx.call("/eventstream.v1.Admin/DeleteGroup", ctx.message("eventstream.v1.DeleteGroupRequest")(group=group))
    return detail


@check("coordinator_redirect")
def coordinator_redirect(ctx):
    """A broker that does not run a group answers Poll and Subscribe with UNAVAILABLE and the
    running broker's address as trailing metadata (a trailers-only response)."""
    if ctx.redirect is None:
        return {"skipped": "no --redirect-group, --redirect-topic and --coordinator given"}
    group, topic, coordinator = ctx.redirect
    Subscription = ctx.message("eventstream.v1.Subscription")
    Duration = ctx.message("google.protobuf.Duration")
    subscription = Subscription(group=group, topics=[topic], session_timeout=Duration(seconds=3))
    detail = {}

    def expect_redirect(name, err):
        trailers = dict(err.trailing_metadata() or ())
        detail[name] = {"code": code_of(err), "message": err.details(), "coordinator": trailers.get("eventstream-coordinator")}
        if err.code() != grpc.StatusCode.UNAVAILABLE or trailers.get("eventstream-coordinator") != coordinator \
                or coordinator not in (err.details() or ""):
            raise CheckFailed(detail)

    expect_redirect("poll", expect_failure(lambda: ctx.call("/eventstream.v1.Consumer/Poll", ctx.message("eventstream.v1.PollRequest")(
        subscription=subscription, max_wait=Duration()))))

    def subscribe():
        join = ctx.message("eventstream.v1.SubscribeRequest")(join=subscription)
        responses = ctx.callable("/eventstream.v1.Consumer/Subscribe")(iter([join]), timeout=CALL_TIMEOUT_S)
        return [r.WhichOneof("response") for r in responses]
    expect_redirect("subscribe", expect_failure(subscribe))
    return detail


def run_check(fn, ctx, timeout_s):
    """Runs one check in a thread so that a hang is reported instead of blocking the run."""
    outcome = {}

    def target():
        try:
            outcome["detail"] = fn(ctx)
        except BaseException as err:  # reported, never raised
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        return False, {"error": f"check timed out after {round(timeout_s * 1000)} ms"}
    if "error" in outcome:
        return False, error_detail(outcome["error"])
    return True, outcome.get("detail")


def parse_args(argv):
    names = [name for name, _ in CHECKS]
    parser = argparse.ArgumentParser(description="gRPC interop checks against an EventStream broker")
    parser.add_argument("address", help="HOST:PORT of the broker (plaintext h2c)")
    parser.add_argument("--expect", default="SERVING", choices=["SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN"])
    parser.add_argument("--only", help="comma-separated checks: " + ",".join(names))
    parser.add_argument("--timeout-ms", type=int, default=10000)
    parser.add_argument("--redirect-group")
    parser.add_argument("--redirect-topic")
    parser.add_argument("--coordinator")
    args = parser.parse_args(argv)  # exits 2 on bad arguments
    args.only = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else names
    unknown = [n for n in args.only if n not in names]
    if unknown:
        parser.error(f"unknown check(s): {', '.join(unknown)}")
    if args.timeout_ms <= 0:
        parser.error("--timeout-ms must be positive")
    return args


def main(argv):
    args = parse_args(argv)
    redirect = (args.redirect_group, args.redirect_topic, args.coordinator) \
        if args.redirect_group and args.redirect_topic and args.coordinator else None
    ctx = Context(args.address, args.expect, ProtoSet(PROTO_DIRS, CONTRACT_FILES), redirect)
    checks = dict(CHECKS)
    failures = 0
    for name in args.only:
        ok, detail = run_check(checks[name], ctx, args.timeout_ms / 1000)
        failures += 0 if ok else 1
        print(json.dumps({"check": name, "ok": ok, "detail": detail}, default=str), flush=True)
    ctx.close()
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except SystemExit:
        raise
    except BaseException as crash:
        import traceback
        traceback.print_exc()
        print(f"broker_checks: crashed: {crash}", file=sys.stderr)
        code = 3
    sys.stdout.flush()
    os._exit(code)  # daemon threads of timed-out checks must not keep the process alive
