#!/usr/bin/env node
// Checks a running EventStream broker with independent gRPC clients (grpc-js, proto-loader on
// the contract in proto/, and grpc-js-reflection-client).
//
// Usage:
//   node broker-checks.js HOST:PORT [--expect SERVING|NOT_SERVING] [--only a,b,...]
//                         [--timeout-ms N]
//
//   HOST:PORT       the broker's plaintext (h2c) gRPC address, e.g. 127.0.0.1:5000.
//   --expect S      the status health_check and health_watch_stream expect (default SERVING).
//   --only LIST     run only these checks (comma-separated names, in the order given).
//   --timeout-ms N  a check that takes longer is reported as failed (default 10000).
//
// Stdout: one JSON object per line per check, in order:
//   {"check": "<name>", "ok": true|false, "detail": <any JSON>}
// `detail` says what was seen (statuses, service lists...) or, when ok is false, why
// (`{"error": ..., "code": <gRPC status>}`). Diagnostics go to stderr.
// Exit code: 0 when every check passed, 1 when some check failed (all still reported),
// 2 on bad arguments, 3 when the script itself crashed.
//
// Checks: health_check, reflection_list, reflection_descriptor, reflection_v1alpha,
// health_watch_stream, unknown_method, oversized_message, deadline_exceeded.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { GrpcReflection } = require('grpc-js-reflection-client');

// The contract, and the standard health schema an outside client brings itself.
const PROTO_DIRS = [path.resolve(__dirname, '..', '..', '..', 'proto'), path.resolve(__dirname, '..', 'proto')];
const CALL_DEADLINE_MS = 5000;
// Loopback targets must not go through an http_proxy from the environment.
const CHANNEL_OPTIONS = { 'grpc.enable_http_proxy': 0 };
const REQUIRED_SERVICES = [
  'eventstream.v1.Admin',
  'eventstream.v1.Producer',
  'eventstream.v1.Consumer',
  'eventstream.v1.Reader',
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
];

function usage(message) {
  process.stderr.write(`broker-checks: ${message}\n` +
    'usage: node broker-checks.js HOST:PORT [--expect SERVING|NOT_SERVING] [--only a,b] [--timeout-ms N]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { address: null, expect: 'SERVING', only: null, timeoutMs: 10000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`missing value for ${a}`));
    if (a === '--expect') opts.expect = value();
    else if (a === '--only') opts.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--timeout-ms') opts.timeoutMs = Number(value());
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (opts.address === null) opts.address = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!opts.address) usage('missing HOST:PORT');
  if (!['SERVING', 'NOT_SERVING', 'UNKNOWN', 'SERVICE_UNKNOWN'].includes(opts.expect)) usage(`bad --expect ${opts.expect}`);
  if (!(opts.timeoutMs > 0)) usage('bad --timeout-ms');
  return opts;
}

const loaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

function loadContract() {
  const def = protoLoader.loadSync([
    'eventstream/v1/admin.proto',
    'eventstream/v1/producer.proto',
    'eventstream/v1/consumer.proto',
    'eventstream/v1/reader.proto',
    'grpc/health/v1/health.proto',
  ], { ...loaderOptions, includeDirs: PROTO_DIRS });
  return grpc.loadPackageDefinition(def);
}

const deadline = (ms = CALL_DEADLINE_MS) => new Date(Date.now() + ms);

// A failed check; `detail` is reported as is.
class CheckFailed extends Error {
  constructor(detail) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.detail = detail;
  }
}

function errorDetail(err) {
  if (err instanceof CheckFailed) return err.detail;
  if (err && typeof err.code === 'number') return { error: err.details || err.message, code: err.code };
  const message = String((err && err.message) || err);
  // grpc-js-reflection-client wraps call errors as text: "Error: 14 UNAVAILABLE: ...".
  const wrapped = /^(?:Error: )?(\d+) [A-Z_]+: ([\s\S]*)$/.exec(message);
  if (wrapped) return { error: wrapped[2], code: Number(wrapped[1]) };
  return { error: message };
}

function unary(client, method, request, options = {}) {
  return new Promise((resolve, reject) => {
    client[method](request, new grpc.Metadata(), { deadline: deadline(), ...options }, (err, res) =>
      (err ? reject(err) : resolve(res)));
  });
}

// Resolves with the error a call ended with; fails the check if it succeeded.
function expectFailure(promise) {
  return promise.then(
    (res) => { throw new CheckFailed({ error: 'call succeeded', response: res }); },
    (err) => err,
  );
}

function withReflection(ctx, version, fn) {
  const reflection = new GrpcReflection(ctx.address, grpc.credentials.createInsecure(), { ...CHANNEL_OPTIONS }, version);
  return Promise.resolve()
    .then(() => fn(reflection))
    .finally(() => {
      // The library keeps its client private; close it so no channel lingers.
      if (reflection.client && typeof reflection.client.close === 'function') reflection.client.close();
    });
}

async function listServices(ctx, version) {
  const services = await withReflection(ctx, version, (r) =>
    r.listServices('*', new grpc.Metadata(), { deadline: deadline() }));
  const missing = REQUIRED_SERVICES.filter((s) => !services.includes(s));
  const detail = { version, services, missing };
  if (missing.length) throw new CheckFailed(detail);
  return detail;
}

// Each check returns its detail or throws (CheckFailed or a grpc error).
const CHECKS = {
  async health_check(ctx) {
    const res = await unary(ctx.health, 'Check', { service: '' });
    const detail = { status: res.status, expected: ctx.expect };
    if (res.status !== ctx.expect) throw new CheckFailed(detail);
    return detail;
  },

  reflection_list: (ctx) => listServices(ctx, 'v1'),

  async reflection_descriptor(ctx) {
    const pkg = await withReflection(ctx, 'v1', async (r) => {
      const descriptor = await r.getDescriptorBySymbol('eventstream.v1.Admin', new grpc.Metadata(), { deadline: deadline() });
      return descriptor.getPackageObject(loaderOptions);
    });
    const admin = pkg.eventstream && pkg.eventstream.v1 && pkg.eventstream.v1.Admin;
    if (!admin || !admin.service) throw new CheckFailed({ error: 'eventstream.v1.Admin not in the reflected descriptors' });
    const methods = Object.keys(admin.service);
    const create = admin.service.CreateTopic;
    const detail = {
      methods,
      create_topic: create && {
        path: create.path,
        request: create.requestType && create.requestType.type && create.requestType.type.name,
        response: create.responseType && create.responseType.type && create.responseType.type.name,
      },
    };
    if (!create || create.path !== '/eventstream.v1.Admin/CreateTopic') throw new CheckFailed(detail);
    return detail;
  },

  reflection_v1alpha: (ctx) => listServices(ctx, 'v1alpha'),

  health_watch_stream(ctx) {
    return new Promise((resolve, reject) => {
      let first = null;
      const call = ctx.health.Watch({ service: '' }, new grpc.Metadata(), { deadline: deadline() });
      call.on('data', (msg) => {
        if (first !== null) return;
        first = msg.status;
        call.cancel();
        const detail = { first_status: first, expected: ctx.expect };
        if (first === ctx.expect) resolve(detail);
        else reject(new CheckFailed(detail));
      });
      call.on('error', (err) => {
        if (first === null) reject(err);
      });
      call.on('end', () => {
        if (first === null) reject(new CheckFailed({ error: 'stream ended without a message' }));
      });
    });
  },

  async unknown_method(ctx) {
    const client = new grpc.Client(ctx.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    try {
      const err = await expectFailure(new Promise((resolve, reject) => {
        client.makeUnaryRequest('/eventstream.v1.Nope/Missing', (b) => b, (b) => b, Buffer.alloc(0),
          new grpc.Metadata(), { deadline: deadline() }, (e, res) => (e ? reject(e) : resolve(res)));
      }));
      const detail = { code: err.code, details: err.details, expected: grpc.status.UNIMPLEMENTED };
      if (err.code !== grpc.status.UNIMPLEMENTED) throw new CheckFailed(detail);
      return detail;
    } finally {
      client.close();
    }
  },

  async oversized_message(ctx) {
    // Health/Check is served from the start, so the size limit is what answers.
    const health = new ctx.proto.grpc.health.v1.Health(ctx.address, grpc.credentials.createInsecure(), {
      ...CHANNEL_OPTIONS,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
    try {
      const request = { service: 'x'.repeat(5 * 1024 * 1024) };
      const err = await expectFailure(unary(health, 'Check', request, { deadline: deadline(15000) }));
      const detail = { code: err.code, details: err.details, expected: grpc.status.RESOURCE_EXHAUSTED };
      try {
        detail.health_after = (await unary(ctx.health, 'Check', { service: '' })).status;
      } catch (e) {
        detail.health_after = errorDetail(e);
      }
      if (err.code !== grpc.status.RESOURCE_EXHAUSTED || detail.health_after !== ctx.expect) throw new CheckFailed(detail);
      return detail;
    } finally {
      health.close();
    }
  },

  deadline_exceeded(ctx) {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      let messages = 0;
      const call = ctx.health.Watch({ service: '' }, new grpc.Metadata(), { deadline: deadline(300) });
      call.on('data', () => { messages++; });
      call.on('error', (err) => {
        const detail = { code: err.code, details: err.details, elapsed_ms: Date.now() - started, messages, expected: grpc.status.DEADLINE_EXCEEDED };
        if (err.code === grpc.status.DEADLINE_EXCEEDED) resolve(detail);
        else reject(new CheckFailed(detail));
      });
      call.on('end', () => reject(new CheckFailed({ error: 'stream ended before the deadline', messages })));
    });
  },
};

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed({ error: `check timed out after ${ms} ms` })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function emit(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const names = opts.only || Object.keys(CHECKS);
  for (const n of names) if (!CHECKS[n]) usage(`unknown check ${n}`);

  const proto = loadContract();
  const ctx = {
    address: opts.address,
    expect: opts.expect,
    proto,
    health: new proto.grpc.health.v1.Health(opts.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS),
  };

  let failures = 0;
  for (const name of names) {
    let result;
    try {
      const detail = await withTimeout(Promise.resolve().then(() => CHECKS[name](ctx)), opts.timeoutMs);
      result = { check: name, ok: true, detail: detail === undefined ? null : detail };
    } catch (err) {
      failures++;
      result = { check: name, ok: false, detail: errorDetail(err) };
    }
    emit(result);
  }
  ctx.health.close();
  return failures === 0 ? 0 : 1;
}

process.on('uncaughtException', (err) => {
  process.stderr.write(`broker-checks: crashed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(3);
});

main().then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (err) => {
    process.stderr.write(`broker-checks: crashed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(3);
  },
);
