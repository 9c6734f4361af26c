/**
 * Data-parallel training from the command line, with torchrun's conventions: a process started with RANK and
 * WORLD_SIZE in its environment (and MASTER_ADDR, MASTER_PORT) is one rank of a run, as a cluster scheduler or a
 * torchrun-style launcher starts it; `--nproc N` (with `--nnodes`, `--node-rank`, `--master-addr`, `--master-port`
 * across machines) makes this process such a launcher: it starts N workers of the same command on this machine, stops
 * them all when one fails, and passes Ctrl-C on to them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { availableParallelism, constants as osConstants } from "node:os";
import type { Command } from "commander";
import type { DistributedOptions } from "../train/data-parallel.js";
import { UserError } from "./errors.js";
import { parseIntOption, parsePositiveFloat } from "./options.js";

/** torchrun's default rendezvous address and port. */
export const DEFAULT_MASTER_ADDR = "127.0.0.1";
export const DEFAULT_MASTER_PORT = 29500;
/** Collective timeout in seconds (torch.distributed's 30 minutes): how long a hung rank can stall the others. */
export const DEFAULT_DIST_TIMEOUT_S = 1800;
/** A training command's exit status after a Ctrl-C (weights/last saved), as a shell reports one. */
const INTERRUPTED_STATUS = 130;
/** After one worker failed, how long the others get to end after SIGTERM before SIGKILL. */
export const KILL_GRACE_MS = 10_000;

/** The data-parallel flags of the training commands. */
export interface DistributedFlags {
  nproc?: number;
  nnodes: number;
  nodeRank: number;
  masterAddr?: string;
  masterPort?: number;
  syncBn: boolean;
  distTimeout: number;
}

/** Adds the data-parallel flags to a training command. */
export function addDistributedOptions(cmd: Command): Command {
  return cmd
    .option("--nproc <n>", "worker processes on this machine (data-parallel; alias --nproc-per-node)", (v: string) =>
      parseIntOption("--nproc", 1)(v),
    )
    .option("--nnodes <n>", "machines taking part (each runs sladet with --nproc)", parseIntOption("--nnodes", 1), 1)
    .option(
      "--node-rank <n>",
      "this machine's index among --nnodes (0 hosts the rendezvous)",
      parseIntOption("--node-rank", 0),
      0,
    )
    .option(
      "--master-addr <host>",
      `address of node 0, the rendezvous host (env MASTER_ADDR; default ${DEFAULT_MASTER_ADDR})`,
    )
    .option(
      "--master-port <port>",
      `rendezvous port (env MASTER_PORT; default ${DEFAULT_MASTER_PORT})`,
      parseIntOption("--master-port", 1, 65535),
    )
    .option("--sync-bn", "batch-norm statistics over every process's images (SyncBatchNorm)", false)
    .option(
      "--dist-timeout <s>",
      "seconds before a rank that stopped responding ends the run (rank 0 validates meanwhile: allow for that)",
      parsePositiveFloat("--dist-timeout"),
      DEFAULT_DIST_TIMEOUT_S,
    );
}

/** Workers to start on this machine, and the environment of each. */
export interface LaunchPlan {
  workers: Array<{ rank: number; env: Record<string, string> }>;
}

/** What this invocation is: one process, a launcher of workers, or one rank of a run (its environment says so). */
export type DistributedRole =
  | { kind: "single" }
  | { kind: "launcher"; plan: LaunchPlan }
  | { kind: "worker"; options: DistributedOptions };

function envInt(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  const n = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UserError(`environment variable ${name}: expected an integer in [${min}, ${max}], found "${raw ?? ""}"`);
  }
  return n;
}

/** Rendezvous address and port: the flags, else MASTER_ADDR / MASTER_PORT, else torchrun's defaults. */
function rendezvous(flags: DistributedFlags, env: NodeJS.ProcessEnv): { masterAddr: string; masterPort: number } {
  const masterAddr = flags.masterAddr ?? env["MASTER_ADDR"] ?? DEFAULT_MASTER_ADDR;
  const masterPort =
    flags.masterPort ?? (env["MASTER_PORT"] === undefined ? DEFAULT_MASTER_PORT : envInt(env, "MASTER_PORT", 1, 65535));
  return { masterAddr, masterPort };
}

/**
 * This invocation's role. RANK and WORLD_SIZE in the environment make it a worker (a launcher's child, or a process
 * a scheduler started); otherwise `--nproc` × `--nnodes` > 1 makes it a launcher.
 */
export function distributedRole(flags: DistributedFlags, env: NodeJS.ProcessEnv = process.env): DistributedRole {
  const timeoutMs = Math.round(flags.distTimeout * 1000);
  if (env["RANK"] !== undefined || env["WORLD_SIZE"] !== undefined) {
    const worldSize = envInt(env, "WORLD_SIZE", 1);
    const rank = envInt(env, "RANK", 0, worldSize - 1);
    if (worldSize === 1) return { kind: "single" };
    return { kind: "worker", options: { ...rendezvous(flags, env), rank, worldSize, timeoutMs, syncBn: flags.syncBn } };
  }
  const nproc = flags.nproc ?? 1;
  if (flags.nodeRank >= flags.nnodes) {
    throw new UserError(`--node-rank ${flags.nodeRank} must be below --nnodes ${flags.nnodes}`);
  }
  if (nproc * flags.nnodes === 1) return { kind: "single" };
  const { masterAddr, masterPort } = rendezvous(flags, env);
  if (flags.nnodes > 1 && flags.masterAddr === undefined && env["MASTER_ADDR"] === undefined) {
    throw new UserError(
      "--nnodes > 1 needs --master-addr (or MASTER_ADDR): the address of node 0, reachable from every node",
    );
  }
  const worldSize = nproc * flags.nnodes;
  // the machine's cores shared among its workers (each would otherwise start one libtorch thread per core)
  const cores = Number(env["SLADET_THREADS"]) || availableParallelism();
  const threads = String(Math.max(1, Math.floor(cores / nproc)));
  const workers = Array.from({ length: nproc }, (_, local) => {
    const rank = flags.nodeRank * nproc + local;
    return {
      rank,
      env: {
        MASTER_ADDR: masterAddr,
        MASTER_PORT: String(masterPort),
        WORLD_SIZE: String(worldSize),
        RANK: String(rank),
        LOCAL_RANK: String(local),
        LOCAL_WORLD_SIZE: String(nproc),
        SLADET_THREADS: threads,
        OMP_NUM_THREADS: threads,
      },
    };
  });
  return { kind: "launcher", plan: { workers } };
}

/** How a worker ended, for the launcher's message. */
function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/**
 * Starts the plan's workers (this same command, each with its environment) and waits for them. When one fails, the
 * others get SIGTERM (SIGKILL after {@link KILL_GRACE_MS}) and the launcher returns that worker's exit status; a
 * Ctrl-C is passed on to every worker (each saves weights/last and stops after the same batch). Workers run in their
 * own process groups, so a terminal's Ctrl-C reaches them once, through here; each one exits when the launcher dies
 * (its IPC channel closes: see {@link exitWithLauncher}).
 */
export function launchWorkers(
  plan: LaunchPlan,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<number> {
  const args = [...process.execArgv, process.argv[1]!, ...process.argv.slice(2)];
  const children = new Map<number, ChildProcess>();
  let failure: number | null = null; // the exit status of the first worker that failed
  let interrupted = false;
  return new Promise((resolve) => {
    let running = plan.workers.length;
    const stopOthers = () => {
      for (const child of children.values())
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      setTimeout(() => {
        for (const child of children.values())
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }, KILL_GRACE_MS).unref();
    };
    const onSigint = () => {
      log(`sladet: passing Ctrl-C on to ${running} worker(s)`);
      for (const child of children.values()) if (child.exitCode === null) child.kill("SIGINT");
    };
    process.on("SIGINT", onSigint);
    for (const { rank, env } of plan.workers) {
      const child = spawn(process.execPath, args, {
        env: { ...process.env, ...env },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        detached: true,
      });
      children.set(rank, child);
      log(`sladet: started rank ${rank} (pid ${child.pid})`);
      child.on("exit", (code, signal) => {
        running--;
        const status = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
        if (status === INTERRUPTED_STATUS) {
          interrupted = true; // saved weights/last after a Ctrl-C: not a failure
        } else if (status !== 0 && failure === null) {
          failure = status;
          log(`sladet: rank ${rank} (pid ${child.pid}) ${describeExit(code, signal)}; stopping the other workers`);
          stopOthers();
        }
        if (running === 0) {
          process.removeListener("SIGINT", onSigint);
          resolve(failure ?? (interrupted ? INTERRUPTED_STATUS : 0));
        }
      });
    }
  });
}

/** In a launcher's worker: exits when the launcher is gone (killed), so no orphan keeps training. */
export function exitWithLauncher(): void {
  if (!process.send || !process.channel) return;
  process.channel.unref(); // the channel alone does not keep the worker alive
  process.on("disconnect", () => {
    process.stderr.write(`sladet: rank ${process.env["RANK"]}: the launcher exited; stopping\n`);
    process.exit(1);
  });
}
