// SPDX-License-Identifier: Apache-2.0
// An OTLP/HTTP logs receiver for the tests: every POST to /v1/logs is decoded with the
// ExportLogsServiceRequest definition OpenTelemetry's JavaScript SDK ships (not cleartap's),
// and written as one JSON line. Usage:
//   node receiver.js OUT.jsonl PORT_FILE [--fail N] [--fail-status S] [--retry-after S]
//                    [--reject N] [--status S]
// --fail N: the first N requests get --fail-status (503) instead; --reject N: the first
// successful response reports N rejected log records (partial success); --status S: every
// request gets S (a non-retryable refusal, say).
'use strict';
const fs = require('fs');
const http = require('http');
const zlib = require('zlib');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

const logs = root.opentelemetry.proto.collector.logs.v1;
const [out, portFile, ...rest] = process.argv.slice(2);
const opt = {fail: 0, failStatus: 503, retryAfter: null, reject: 0, status: null};
for (let i = 0; i < rest.length; i += 2) {
  const v = Number(rest[i + 1]);
  ({'--fail': () => { opt.fail = v; }, '--fail-status': () => { opt.failStatus = v; },
    '--retry-after': () => { opt.retryAfter = v; }, '--reject': () => { opt.reject = v; },
    '--status': () => { opt.status = v; }})[rest[i]]();
}
let requests = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const n = ++requests;
    let body = Buffer.concat(chunks);
    const line = {n, method: req.method, url: req.url, headers: req.headers, bodyBytes: body.length};
    try {
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const decoded = logs.ExportLogsServiceRequest.decode(body);
      line.request = logs.ExportLogsServiceRequest.toObject(decoded, {longs: String, bytes: String});
    } catch (e) {
      line.error = String(e);
    }
    let status = opt.status || 200;
    if (n <= opt.fail) status = opt.failStatus;
    line.status = status;
    fs.appendFileSync(out, JSON.stringify(line) + '\n');
    const headers = {'Content-Type': 'application/x-protobuf'};
    if (status !== 200 && opt.retryAfter !== null) headers['Retry-After'] = String(opt.retryAfter);
    let reply = {};
    if (status === 200 && opt.reject) {
      reply = {partialSuccess: {rejectedLogRecords: opt.reject, errorMessage: 'test rejects'}};
      opt.reject = 0;
    }
    res.writeHead(status, headers);
    res.end(Buffer.from(logs.ExportLogsServiceResponse.encode(
        logs.ExportLogsServiceResponse.fromObject(reply)).finish()));
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
