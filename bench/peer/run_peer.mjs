// Runs each benchmark machine N times on aws-local-stepfunctions (the Node peer), BENCH_ROUNDS
// times (default 5), and prints one JSON line per machine: {"machine", "executions", "rounds",
// "per_second" (the median round), "output"}.
//   node run_peer.mjs N machine.asl.json input.json [machine.asl.json input.json ...]
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

const n = Number(process.argv[2]);
const rounds = Number(process.env.BENCH_ROUNDS || 5);
const args = process.argv.slice(3);
for (let i = 0; i < args.length; i += 2) {
  const definition = JSON.parse(readFileSync(args[i], 'utf8'));
  const input = JSON.parse(readFileSync(args[i + 1], 'utf8'));
  const machine = new StateMachine(definition, {
    validationOptions: { checkPaths: false, checkArn: false },
  });
  let output;
  for (let w = 0; w < 200; w++) output = await machine.run(input).result;  // warm-up
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < n; k++) output = await machine.run(input).result;
    rates.push(n / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  const sorted = [...rates].sort((a, b) => a - b);
  console.log(JSON.stringify({ machine: args[i], executions: n, rounds: rates,
                               per_second: sorted[Math.floor(sorted.length / 2)], output }));
}
