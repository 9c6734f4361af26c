/**
 * A configuration problem the user can fix (a bad option value, a hyp file, a missing --cfg): library code throws it,
 * the CLI prints its message without a stack trace.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}
