/**
 * One rank of a data-parallel test run, started by test/train/distributed.test.ts as its own process (as a cluster
 * scheduler would start it): `node dist-worker.js <mode> <json>`, rank and rendezvous in the JSON. Prints one JSON
 * line with what it found; on an error prints the message and exits 1.
 *   collectives: all-reduce (mean, sum), broadcast, all-gather, barrier and the store on small tensors
 *   train:       train() with `distributed` set (the JSON holds the train options)
 */
import { ProcessGroup, type ProcessGroupOptions, tensor } from "../../src/torch/index.js";
import { type TrainOptions, train } from "../../src/train/trainer.js";

function collectives(options: ProcessGroupOptions): Record<string, unknown> {
  const group = ProcessGroup.init(options);
  const { rank } = group;
  try {
    // two tensors, the second alone in its bucket (12 bytes): values 1..5 shifted by the rank
    const a = tensor([rank + 1, rank + 2, rank + 3], undefined, { dtype: "float32" });
    const b = tensor(
      [
        [10 * rank, 1],
        [2, 3],
      ],
      undefined,
      { dtype: "float32" },
    );
    group.allReduceMean([a, b], 12);
    const sum = tensor([rank + 1], undefined, { dtype: "float32" });
    group.allReduceSum(sum);
    const c = tensor([rank, rank, rank], undefined, { dtype: "float32" });
    group.broadcast([c], 1);
    const gathered = group.allGather(tensor([rank * 2, rank * 2 + 1], undefined, { dtype: "int64" }));
    group.barrier();
    if (rank === 0) group.storeSet("answer", "42");
    const answer = group.storeGet("answer", 10_000);
    return {
      mean: [a.toArray(), b.toArray()],
      sum: sum.toArray(),
      broadcast: c.toArray(),
      gathered: { shape: gathered.shape, values: gathered.toArray() },
      answer,
    };
  } finally {
    group.barrier();
    group.destroy();
  }
}

async function main(): Promise<void> {
  const [mode, json] = process.argv.slice(2);
  const input = JSON.parse(json ?? "{}") as Record<string, unknown>;
  if (mode === "collectives") {
    process.stdout.write(`${JSON.stringify(collectives(input as unknown as ProcessGroupOptions))}\n`);
  } else if (mode === "train") {
    const result = await train(input as TrainOptions);
    const { rank, last, runDir, epochsRun, stoppedAt } = result;
    process.stdout.write(`${JSON.stringify({ rank, last, runDir, epochsRun, stoppedAt })}\n`);
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
  process.exit(1);
});
