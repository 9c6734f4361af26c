/**
 * The studio's guards, as Jupyter's: a random token printed in the URL that every API call must carry (so another
 * web page open in the same browser cannot read or write the dataset: it does not know the token), a check of the
 * Host header while bound to the loopback (a DNS-rebinding page names its own host), and response headers that keep
 * the page from loading anything but the studio's own files and from leaking the URL with its token.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** Bytes of randomness in a token (printed as 48 hex digits). */
export const TOKEN_BYTES = 24;

/** A new random token. */
export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString("hex");
}

/** True when `given` is the token (compared in constant time). */
export function tokenMatches(token: string, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(token);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Addresses that reach this machine only. */
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** True when `host` (a bind address) is a loopback address. */
export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** True when a request's Host header names this machine through the loopback (port `port`). */
export function hostHeaderAllowed(header: string | undefined, port: number): boolean {
  if (!header) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(header.trim().toLowerCase());
  if (!match) return false;
  const [, name = "", portText] = match;
  return (isLoopback(name) || name === "localhost") && (portText === undefined || Number(portText) === port);
}

/** Headers on every answer: own files only, no framing, no sniffing, no Referer (the URL holds the token). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-resource-policy": "same-origin",
};

/** The warning printed for a bind address other than the loopback. */
export function exposedHostWarning(host: string): string {
  return (
    `warning: the studio listens on ${host}, not only on this machine: anyone who can reach this address and ` +
    "learns the URL with its token can read and change the labels (use the default 127.0.0.1 and an SSH tunnel)"
  );
}
