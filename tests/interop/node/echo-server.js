#!/usr/bin/env node
// grpc-js server for interop.v1.Echo (tests/interop/proto/interop/v1/echo.proto), used to test
// EventStream's gRPC client against an independent server.
//
// Usage:
//   node echo-server.js [PORT] [--host 127.0.0.1] [--max-receive-bytes N] [--ignore-stdin]
//
//   PORT                  port to listen on; 0 or omitted picks a free one.
//   --host H              address to bind (default 127.0.0.1).
//   --max-receive-bytes N largest request message accepted (default 4194304 = 4 MiB);
//                         bigger ones fail with RESOURCE_EXHAUSTED.
//   --ignore-stdin        keep running when stdin closes (for manual runs).
//
// Stdout: exactly one line, `{"port": N}`, once the server is listening. Diagnostics go to
// stderr. The process exits 0 on SIGTERM/SIGINT or when stdin reaches end of file (so it
// dies with the process that launched it), and non-zero if it cannot listen.
//
// Behaviour (see echo.proto): request metadata `x-echo-initial` comes back as initial
// metadata, `x-echo-trailer` / `x-echo-trailer-bin` come back as trailers (on failures too);
// gzip- and deflate-compressed requests are accepted. grpc-js never compresses responses
// (its server always writes the compressed flag as 0), so `x-compress-response` is ignored
// here; python/echo_server.py honours it.
//
// Cancellation tracking: a call counts as cancelled when its stream closes before the
// server sent a status (client cancellation, a reset stream, or the call's deadline as the
// server saw it). Unary with message "__cancelled_count" answers with the count so far in
// `message` (decimal) and `index`. Cancellations reach the server asynchronously: poll.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', 'proto');
const CANCELLED_COUNT_QUERY = '__cancelled_count';

function parseArgs(argv) {
  const opts = { port: 0, host: '127.0.0.1', maxReceiveBytes: 4 * 1024 * 1024, ignoreStdin: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === '--host') opts.host = value();
    else if (a === '--max-receive-bytes') opts.maxReceiveBytes = parseIntStrict(value(), a);
    else if (a === '--ignore-stdin') opts.ignoreStdin = true;
    else if (/^\d+$/.test(a)) opts.port = parseIntStrict(a, 'PORT');
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

function parseIntStrict(text, what) {
  if (!/^-?\d+$/.test(text)) throw new Error(`${what}: not an integer: ${text}`);
  return parseInt(text, 10);
}

function loadEcho() {
  const def = protoLoader.loadSync('interop/v1/echo.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(def).interop.v1.Echo;
}

// The request metadata as a plain map; several values of one key are joined with ",".
function headersOf(metadata) {
  const out = {};
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    const texts = values.map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : String(v)));
    out[key] = texts.join(',');
  }
  return out;
}

function copyKeys(from, keys) {
  const md = new grpc.Metadata();
  for (const key of keys) {
    for (const v of from.get(key)) md.add(key, v);
  }
  return md;
}

const initialMetadataFor = (requestMd) => copyKeys(requestMd, ['x-echo-initial']);
const trailersFor = (requestMd) => copyKeys(requestMd, ['x-echo-trailer', 'x-echo-trailer-bin']);

function statusError(req, requestMd) {
  return { code: req.fail_with_code, details: req.fail_message, metadata: trailersFor(requestMd) };
}

function response(req, index, requestMd, message) {
  return {
    message: message === undefined ? req.message : message,
    index,
    request_headers: headersOf(requestMd),
    padding_size: req.padding ? req.padding.length : 0,
  };
}

const sleep = (ms) => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : resolve()));

function makeService() {
  let cancelledCount = 0;

  // Per-call state: `finished` once the handler has handed grpc-js a final status.
  function track(call) {
    const state = { finished: false, cancelled: false };
    call.on('cancelled', () => {
      if (state.cancelled || state.finished) return;
      state.cancelled = true;
      cancelledCount++;
    });
    const initial = initialMetadataFor(call.metadata);
    if (initial.get('x-echo-initial').length > 0) call.sendMetadata(initial);
    return state;
  }

  function Unary(call, callback) {
    const req = call.request;
    const state = track(call);
    if (req.message === CANCELLED_COUNT_QUERY) {
      state.finished = true;
      callback(null, response(req, cancelledCount, call.metadata, String(cancelledCount)));
      return;
    }
    sleep(req.delay_ms).then(() => {
      if (state.cancelled) return;
      state.finished = true;
      if (req.fail_with_code) callback(statusError(req, call.metadata));
      else callback(null, response(req, 0, call.metadata), trailersFor(call.metadata));
    });
  }

  async function ServerStream(call) {
    const req = call.request;
    const state = track(call);
    for (let i = 0; i < req.repeat; i++) {
      await sleep(req.delay_ms);
      if (state.cancelled) return;
      call.write(response(req, i, call.metadata));
    }
    if (req.repeat <= 0) await sleep(req.delay_ms);
    if (state.cancelled) return;
    state.finished = true;
    if (req.fail_with_code) call.emit('error', statusError(req, call.metadata));
    else call.end(trailersFor(call.metadata));
  }

  function ClientStream(call, callback) {
    const state = track(call);
    const messages = [];
    let padding = 0;
    let chain = Promise.resolve();
    call.on('data', (req) => {
      chain = chain.then(async () => {
        if (state.finished || state.cancelled) return;
        await sleep(req.delay_ms);
        if (state.finished || state.cancelled) return;
        if (req.fail_with_code) {
          state.finished = true;
          callback(statusError(req, call.metadata));
          return;
        }
        messages.push(req.message);
        padding += req.padding ? req.padding.length : 0;
      });
    });
    call.on('end', () => {
      chain = chain.then(() => {
        if (state.finished || state.cancelled) return;
        state.finished = true;
        const res = response({ message: messages.join(',') }, messages.length, call.metadata);
        res.padding_size = padding;
        callback(null, res, trailersFor(call.metadata));
      });
    });
    call.on('error', () => {});
  }

  function Duplex(call) {
    const state = track(call);
    let ordinal = 0;
    let chain = Promise.resolve();
    call.on('data', (req) => {
      const index = ordinal++;
      chain = chain.then(async () => {
        if (state.finished || state.cancelled) return;
        await sleep(req.delay_ms);
        if (state.finished || state.cancelled) return;
        if (req.fail_with_code) {
          state.finished = true;
          call.emit('error', statusError(req, call.metadata));
          return;
        }
        call.write(response(req, index, call.metadata));
      });
    });
    call.on('end', () => {
      chain = chain.then(() => {
        if (state.finished || state.cancelled) return;
        state.finished = true;
        call.end(trailersFor(call.metadata));
      });
    });
    call.on('error', () => {});
  }

  return { Unary, ServerStream, ClientStream, Duplex };
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`echo-server: ${e.message}\n`);
    process.exit(2);
  }

  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxReceiveBytes,
  });
  server.addService(loadEcho().service, makeService());

  const stop = () => {
    server.forceShutdown();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (!opts.ignoreStdin) {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }

  server.bindAsync(`${opts.host}:${opts.port}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      process.stderr.write(`echo-server: cannot listen on ${opts.host}:${opts.port}: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(JSON.stringify({ port }) + '\n');
  });
}

main();
