// Runs ONNX models with onnxruntime-node for Shinso's export tests. One process serves a whole test run:
// argv[2] is the folder npm installed onnxruntime-node into; each stdin line is a JSON request
//   {"model": "/path/model.onnx", "input": "<base64 float32 little-endian>", "dims": [n, ...]}
// and gets one stdout line back:
//   {"output": "<base64 float32>", "dims": [...], "inputName": "...", "outputName": "..."}  or  {"error": "..."}.
// The first line written is {"ready": true, "version": "<onnxruntime-node version>"}.
'use strict';
const path = require('path');
const readline = require('readline');

let ort;
try {
  ort = require(path.join(process.argv[2], 'node_modules', 'onnxruntime-node'));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: `cannot load onnxruntime-node from ${process.argv[2]}: ${e.message}` }) + '\n');
  process.exit(1);
}

function toFloat32(base64) {
  const bytes = Buffer.from(base64, 'base64');
  // Copy into a fresh, aligned buffer: a Buffer's byteOffset need not be a multiple of 4.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

async function run(request) {
  // One intra-op thread: results must not depend on the machine's core count, and builds share the CPU.
  const session = await ort.InferenceSession.create(request.model, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  try {
    const inputName = session.inputNames[0];
    const outputName = session.outputNames[0];
    const feeds = { [inputName]: new ort.Tensor('float32', toFloat32(request.input), request.dims) };
    const results = await session.run(feeds);
    const output = results[outputName];
    const data = output.data;
    return {
      output: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
      dims: Array.from(output.dims),
      inputName,
      outputName,
    };
  } finally {
    await session.release();
  }
}

async function main() {
  process.stdout.write(JSON.stringify({ ready: true, version: ort.env.versions.node }) + '\n');
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let reply;
    try {
      reply = await run(JSON.parse(line));
    } catch (e) {
      reply = { error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  }
}

main();
