/** The front end's calls to the studio's API, each with the session's token. */
import type {
  ErrorBody,
  ImageDetail,
  ImageSummary,
  PredictResult,
  SaveBody,
  SaveResult,
  StudioInfo,
} from "../api-types.js";
import { TOKEN_HEADER } from "../api-types.js";

/** An API call that failed: the server's message and the HTTP status. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The token: from the URL on first load (then kept for this tab and removed from the address bar). */
export function takeToken(): string {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    sessionStorage.setItem("sladet-token", fromUrl);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem("sladet-token") ?? "";
}

/** The studio's API for one token. */
export class Api {
  constructor(readonly token: string) {}

  async #call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { [TOKEN_HEADER]: this.token };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(route, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const data = (await response.json()) as T | ErrorBody;
    if (!response.ok) throw new ApiError((data as ErrorBody).error ?? response.statusText, response.status);
    return data as T;
  }

  #q(path: string): string {
    return `path=${encodeURIComponent(path)}`;
  }

  info(): Promise<StudioInfo> {
    return this.#call("GET", "/api/info");
  }
  images(): Promise<ImageSummary[]> {
    return this.#call("GET", "/api/images");
  }
  image(path: string): Promise<ImageDetail> {
    return this.#call("GET", `/api/image?${this.#q(path)}`);
  }
  predict(path: string): Promise<PredictResult> {
    return this.#call("POST", `/api/predict?${this.#q(path)}`);
  }
  save(path: string, body: SaveBody): Promise<SaveResult> {
    return this.#call("PUT", `/api/labels?${this.#q(path)}`, body);
  }
  /** URL of a picture (the token rides in the query: an <img> cannot send headers). */
  pixelsUrl(path: string): string {
    return `/api/pixels?${this.#q(path)}&token=${encodeURIComponent(this.token)}`;
  }
  thumbUrl(path: string): string {
    return `/api/thumb?${this.#q(path)}&token=${encodeURIComponent(this.token)}`;
  }
}
