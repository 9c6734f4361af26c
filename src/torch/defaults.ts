/** The engine's defaults (torch-free: the CLI shows them in --help without loading the addon). */

/** The device models and tensors go to when none is given. */
export const DEFAULT_DEVICE = "cpu";
