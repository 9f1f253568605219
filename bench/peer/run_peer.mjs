// aws-local-stepfunctions (the Node peer), one side of bench/run_exec_bench; the same protocol
// as build/bench/exec_throughput:
//   node run_peer.mjs machine.asl.json input.json [machine.asl.json input.json ...]
// Warms each machine up (BENCH_WARMUP_SECONDS, default 1, of executions), prints "ready", then
// for each line "<k>" on stdin runs machine k, whole executions until BENCH_MIN_SECONDS (default
// 0.5) have passed, and prints {"machine","executions","seconds","per_second","output"}.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { StateMachine } from 'aws-local-stepfunctions';

const warmup = Number(process.env.BENCH_WARMUP_SECONDS || 1);
const round = Number(process.env.BENCH_MIN_SECONDS || 0.5);
const args = process.argv.slice(2);
const machines = [];
for (let i = 0; i < args.length; i += 2) {
  const definition = JSON.parse(readFileSync(args[i], 'utf8'));
  const input = JSON.parse(readFileSync(args[i + 1], 'utf8'));
  const machine = new StateMachine(definition, {
    validationOptions: { checkPaths: false, checkArn: false },
  });
  machines.push({ path: args[i], machine, input, output: undefined });
}

// Whole executions until `seconds` have passed (clock read every 64).
async function runFor(m, seconds) {
  let executions = 0;
  let elapsed = 0;
  const start = process.hrtime.bigint();
  do {
    for (let i = 0; i < 64; i++, executions++) m.output = await m.machine.run(m.input).result;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < seconds);
  return { executions, elapsed };
}

for (const m of machines) await runFor(m, warmup);
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  const m = machines[Number(line)];
  const { executions, elapsed } = await runFor(m, round);
  console.log(JSON.stringify({ machine: m.path, executions, seconds: elapsed,
                               per_second: executions / elapsed, output: m.output }));
}
