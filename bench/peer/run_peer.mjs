// Runs each benchmark machine N times on aws-local-stepfunctions (the Node peer) and prints one
// JSON line per machine: {"machine", "executions", "seconds", "per_second", "output"}.
//   node run_peer.mjs N machine.asl.json input.json [machine.asl.json input.json ...]
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

const n = Number(process.argv[2]);
const args = process.argv.slice(3);
for (let i = 0; i < args.length; i += 2) {
  const definition = JSON.parse(readFileSync(args[i], 'utf8'));
  const input = JSON.parse(readFileSync(args[i + 1], 'utf8'));
  const machine = new StateMachine(definition, {
    validationOptions: { checkPaths: false, checkArn: false },
  });
  let output;
  for (let w = 0; w < 200; w++) output = await machine.run(input).result;  // warm-up
  const start = process.hrtime.bigint();
  for (let k = 0; k < n; k++) output = await machine.run(input).result;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(JSON.stringify({ machine: args[i], executions: n, seconds,
                               per_second: n / seconds, output }));
}
