// Removes the `name` custom section (function names for stack traces) from a WASM file, in
// place. worker-build always keeps it (it runs wasm-opt with --debuginfo); it is about a sixth
// of each function's upload, and the size budget (ci/lib.sh) needs it gone. Panics still log
// their message; stack frames show as wasm-function[N]. Usage: node ci/strip-wasm-names.mjs FILE
import { readFileSync, writeFileSync } from "node:fs";

const path = process.argv[2];
const wasm = readFileSync(path);
if (wasm.readUInt32LE(0) !== 0x6d736100) throw new Error(`${path}: not a WASM module`);

function leb128(offset) {
  let value = 0, shift = 0, byte;
  do {
    byte = wasm[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, offset];
}

const kept = [wasm.subarray(0, 8)];
let offset = 8;
while (offset < wasm.length) {
  const start = offset;
  const id = wasm[offset];
  const [size, body] = leb128(offset + 1);
  offset = body + size;
  if (id === 0) {
    const [nameLength, name] = leb128(body);
    if (wasm.toString("utf8", name, name + nameLength) === "name") continue;
  }
  kept.push(wasm.subarray(start, offset));
}
writeFileSync(path, Buffer.concat(kept));
