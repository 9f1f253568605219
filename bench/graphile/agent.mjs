// graphile-worker, driven by bench/run_engine_bench: one worker pool on the bench's cluster,
// rounds read from standard input.
//   node agent.mjs URL batched|unbatched
// Input lines: `round N` queues N no-op jobs in one statement (one transaction), then times the
// worker from that commit until the queue is empty (graphile-worker's own performance test
// times processing the same way, job insertion excluded). Answers `done SECONDS`.
import { Logger, run } from "graphile-worker";
import pg from "pg";
import readline from "node:readline";

const [url, mode] = process.argv.slice(2);
const batched = mode === "batched";
const concurrency = 24;
const worker = batched
  ? { concurrentJobs: concurrency, maxPoolSize: concurrency + 2, pollInterval: 2000,
      localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
  : { concurrentJobs: concurrency, maxPoolSize: concurrency + 2, pollInterval: 2000 };

// Warnings and errors only, to standard error (standard output carries the answers).
const logger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning") console.error(`graphile-worker: ${message}`);
});
const runner = await run({
  connectionString: url,
  noHandleSignals: true,
  logger,
  preset: { worker: { ...worker, logger } },
  taskList: { noop: async () => {} },
});
const client = new pg.Client({ connectionString: url });
await client.connect();
console.log("ready");

async function remaining() {
  const r = await client.query("SELECT count(*)::int AS n FROM graphile_worker._private_jobs");
  return r.rows[0].n;
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const [command, arg] = line.trim().split(/\s+/);
  if (command === "round") {
    const n = Number(arg);
    await client.query(
      "SELECT graphile_worker.add_jobs(array_agg(('noop', json_build_object('i', i), NULL, " +
        "NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec)) FROM generate_series(1, $1) i",
      [n]);
    const start = process.hrtime.bigint();
    while ((await remaining()) > 0) await new Promise((r) => setTimeout(r, 2));
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(`done ${seconds}`);
  } else if (command === "quit") {
    break;
  }
}
await client.end();
await runner.stop();
