#!/usr/bin/python3
"""Checks a broker with authentication on from python grpcio: a call with an API key in its
metadata is served, the same call without it gets UNAUTHENTICATED.

    /usr/bin/python3 auth_checks.py HOST:PORT KEY PRINCIPAL

Stdout: one JSON object per check, {"check": name, "ok": bool, "detail": ...}. Exit code 0 when
every check passed, 1 otherwise, 2 on bad arguments. No generated code: requests are empty
messages (WhoAmIRequest, ListTopicsRequest) and the WhoAmI answer is read for its first field.
"""

import json
import sys

import grpc


def who_am_i_principal(raw):
    # WhoAmIResponse field 1 (principal): tag 0x0a, a one-byte length for short names.
    if len(raw) < 2 or raw[0] != 0x0A:
        return None
    return raw[2:2 + raw[1]].decode("utf-8")


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    target, key, principal = sys.argv[1:]
    channel = grpc.insecure_channel(target)
    identity = lambda b: b  # noqa: E731
    who_am_i = channel.unary_unary("/eventstream.v1.Security/WhoAmI", request_serializer=identity, response_deserializer=identity)
    list_topics = channel.unary_unary("/eventstream.v1.Admin/ListTopics", request_serializer=identity, response_deserializer=identity)
    results = []

    def record(name, ok, detail):
        results.append(ok)
        print(json.dumps({"check": name, "ok": ok, "detail": detail}), flush=True)

    try:
        seen = who_am_i_principal(who_am_i(b"", metadata=[("authorization", "Bearer " + key)], timeout=30))
        record("with_key_served", seen == principal, {"principal": seen})
    except grpc.RpcError as e:
        record("with_key_served", False, {"code": e.code().name, "error": e.details()})
    for name, call in (("without_key_unauthenticated", list_topics), ("without_key_whoami_unauthenticated", who_am_i)):
        try:
            call(b"", timeout=30)
            record(name, False, {"error": "served without credentials"})
        except grpc.RpcError as e:
            record(name, e.code() == grpc.StatusCode.UNAUTHENTICATED, {"code": e.code().name, "message": e.details()})
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
