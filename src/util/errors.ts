/**
 * A configuration problem the user can fix (a bad option value, a hyp file, a missing --cfg): library code throws it,
 * the CLI prints its message without a stack trace.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * A bad value of one option of a library call, named by its field (`imgsz`, `confThres`): the message is
 * `<option> <problem>`. The CLI names the flag instead (src/cli/user-errors.ts maps fields to flags).
 */
export class OptionError extends ConfigError {
  override name = "OptionError";
  /** The option's field name in the library's options object. */
  readonly option: string;
  /** What is wrong, after the option's name (its value first, as the message shows it). */
  readonly problem: string;

  constructor(option: string, problem: string) {
    super(`${option} ${problem}`);
    this.option = option;
    this.problem = problem;
  }
}

/**
 * A file could not be written (a full disk, a read-only folder, no permission): the message names the file and the
 * system's code (`ENOSPC`), and says that the file's previous content, if any, is intact (writes are atomic). The CLI
 * prints it without a stack trace.
 */
export class FileWriteError extends Error {
  override name = "FileWriteError";
  /** The system error code (ENOSPC, EACCES, EROFS, …), or "unknown". */
  readonly code: string;

  constructor(path: string, code: string, detail: string) {
    super(`${path}: cannot write (${code}: ${detail}); its previous content, if any, is intact`);
    this.code = code;
  }
}
