// The jsonata-js side of bench/run_jsonata_bench: compiles each case's expression once, then
// answers one line per command on stdin (same protocol as build/bench/jsonata_bench):
//   check NAME            -> "result JSON" | "result undefined" | "error CODE message"
//   round NAME SECONDS    -> evaluates NAME's expression on its input until SECONDS have passed
//                            (checking the clock every batch), then "done COUNT ELAPSED_SECONDS"
//   quit
import fs from 'node:fs';
import readline from 'node:readline';
import jsonata from 'jsonata';

const cases = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')).cases;
const compiled = new Map();
for (const c of cases) compiled.set(c.name, {expr: jsonata(c.expr), input: c.input});

const rl = readline.createInterface({input: process.stdin});
const out = (line) => process.stdout.write(line + '\n');
out('ready');
for await (const line of rl) {
  const [cmd, name, arg] = line.trim().split(' ');
  if (cmd === 'quit') break;
  const c = compiled.get(name);
  if (!c) {
    out('error unknown-case ' + name);
    continue;
  }
  if (cmd === 'check') {
    try {
      const r = await c.expr.evaluate(c.input);
      out(r === undefined ? 'result undefined' : 'result ' + JSON.stringify(r));
    } catch (e) {
      out('error ' + e.code + ' ' + e.message);
    }
  } else if (cmd === 'round') {
    const seconds = Number(arg);
    let count = 0;
    let batch = 1;
    const start = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < seconds) {
      for (let i = 0; i < batch; i++) await c.expr.evaluate(c.input);
      count += batch;
      if (batch < 64) batch *= 2;
      elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    }
    out('done ' + count + ' ' + elapsed);
  }
}
