/**
 * An error the user caused and can fix (bad flag value, unreadable file, malformed label line): printed as one
 * readable message without a stack trace. Any other error is a bug and keeps its stack.
 */
export class UserError extends Error {
  override name = "UserError";
}

/** Prints `err` for a CLI user and returns the exit code to use. */
export function reportCliError(err: unknown): number {
  if (err instanceof UserError) {
    process.stderr.write(`sladet: ${err.message}\n`);
    return 1;
  }
  process.stderr.write(`sladet: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 70;
}
