/** The studio's defaults, in a module of their own so that the CLI shows them without loading the server. */

/** The address the studio binds by default: this machine only. */
export const STUDIO_HOST = "127.0.0.1";
/** The port by default: 0 = any free port (the URL says which). */
export const STUDIO_PORT = 0;
/** Confidence above which "accept all" takes a prediction inside the region, by default. */
export const STUDIO_ACCEPT_CONF = 0.5;
