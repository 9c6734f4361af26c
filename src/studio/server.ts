/**
 * The studio's HTTP server (fastify): the built front end (index.html, app.js, app.css from the package) and the
 * JSON API under /api/, every call of which needs the session's token. Request bodies are limited in size and
 * checked against a schema; every file path goes through the source's path rule (paths.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import sharp from "sharp";
import { ConfigError } from "../util/errors.js";
import type { ErrorBody, PredictResult, SaveBody } from "./api-types.js";
import { TOKEN_HEADER } from "./api-types.js";
import { InvalidLabelsError, SaveConflictError } from "./label-store.js";
import { PathRefusedError } from "./paths.js";
import type { PredictionCache } from "./predictions.js";
import { hostHeaderAllowed, SECURITY_HEADERS, tokenMatches } from "./security.js";
import { NotFoundError, ReadOnlyError, type StudioSource } from "./source.js";
import type { ThumbnailCache } from "./thumbnails.js";

/** Largest request body accepted (a save of a few thousand boxes is ~0.5 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Most boxes one save may hold. */
export const MAX_LABELS_PER_SAVE = 5000;
/** Longest path accepted in a query. */
export const MAX_PATH_CHARS = 4096;

/** Where the built front end lies: dist/src/studio/web/ beside this module. */
export const WEB_DIR = fileURLToPath(new URL("./web/", import.meta.url));
const WEB_FILES: Readonly<Record<string, string>> = {
  "/": "index.html",
  "/app.js": "app.js",
  "/app.css": "app.css",
};
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".webp": "image/webp",
};

/** Reads the built front end; a missing file means the build step did not run. */
function readWebFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const [route, name] of Object.entries(WEB_FILES)) {
    const path = WEB_DIR + name;
    if (!existsSync(path))
      throw new ConfigError(
        `the studio's front end is not built (${path} is missing): run npm run build (tools/setup.sh)`,
      );
    files.set(route, readFileSync(path));
  }
  return files;
}

/** What the server serves. */
export interface StudioServerParts {
  source: StudioSource;
  token: string;
  /** The port clients use in the Host header (checked while `loopbackOnly`). */
  port: () => number;
  loopbackOnly: boolean;
  thumbnails: ThumbnailCache;
  predictions: PredictionCache | null;
  acceptConf: number;
}

const SAVE_SCHEMA = {
  body: {
    type: "object",
    required: ["version", "region", "labels"],
    additionalProperties: false,
    properties: {
      version: { type: "string", maxLength: 128 },
      region: {
        anyOf: [
          { type: "null" },
          {
            type: "object",
            required: ["x1", "y1", "x2", "y2"],
            additionalProperties: false,
            properties: {
              x1: { type: "number" },
              y1: { type: "number" },
              x2: { type: "number" },
              y2: { type: "number" },
            },
          },
        ],
      },
      labels: {
        type: "array",
        maxItems: MAX_LABELS_PER_SAVE,
        items: {
          type: "object",
          required: ["cls", "xc", "yc", "w", "h", "attributes"],
          additionalProperties: false,
          properties: {
            cls: { type: "integer" },
            xc: { type: "number" },
            yc: { type: "number" },
            w: { type: "number" },
            h: { type: "number" },
            attributes: { type: "array", maxItems: 64, items: { type: "integer" } },
          },
        },
      },
    },
  },
} as const;

/** True when the request matched an API route (or none: an unknown path answers 404 without data either way). */
function isApiRoute(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return route === undefined || route.startsWith("/api/");
}

/** The HTTP status of an error thrown by a handler. */
function statusOf(err: Error & { statusCode?: number }): number {
  if (err instanceof PathRefusedError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ReadOnlyError) return 405;
  if (err instanceof SaveConflictError) return 409;
  if (err instanceof InvalidLabelsError) return 422;
  if (err instanceof ConfigError) return 400; // e.g. weights that cannot be opened: the message says why
  return err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
}

function queryPath(request: FastifyRequest): string {
  const path = (request.query as Record<string, unknown>)["path"];
  if (typeof path !== "string" || path.length > MAX_PATH_CHARS)
    throw Object.assign(new Error(`expected ?path= (at most ${MAX_PATH_CHARS} characters)`), { statusCode: 400 });
  return path;
}

async function sendImage(reply: FastifyReply, file: string): Promise<Buffer> {
  const type = CONTENT_TYPES[extname(file).toLowerCase()];
  reply.header("cache-control", "private, max-age=60");
  if (type?.startsWith("image/")) {
    reply.type(type);
    return readFileSync(file);
  }
  reply.type("image/png"); // TIFF and BMP: browsers cannot show them
  return sharp(file).rotate().png().toBuffer();
}

/** Builds the fastify app of one studio session (not yet listening). */
export function buildServer(parts: StudioServerParts): FastifyInstance {
  const web = readWebFiles();
  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    logger: false,
    // refuse what the schema does not describe, rather than fastify's default of dropping extra keys and coercing types
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  });
  app.addHook("onRequest", async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (parts.loopbackOnly && !hostHeaderAllowed(request.headers.host, parts.port())) {
      reply.code(403).send({ error: "unexpected Host header: open the studio through the URL it printed" });
      return reply;
    }
    // the route that matched, not the raw URL: "/%61pi/info" reaches /api/info and must need the token too
    if (!isApiRoute(request)) return;
    reply.header("cache-control", "no-store");
    const query = request.query as Record<string, unknown>;
    if (!tokenMatches(parts.token, request.headers[TOKEN_HEADER] ?? query["token"])) {
      reply.code(401).send({ error: "missing or wrong token: open the studio through the URL it printed" });
      return reply;
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _request, reply) => {
    const status = statusOf(err);
    const body: ErrorBody = { error: status === 500 ? `internal error: ${err.message}` : err.message };
    reply.code(status).send(body);
  });
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).send({ error: "no such page" });
  });

  for (const route of web.keys()) {
    app.get(route, async (_request, reply) => {
      reply.type(CONTENT_TYPES[extname(WEB_FILES[route]!)] ?? "application/octet-stream");
      return web.get(route);
    });
  }
  app.get("/favicon.ico", async (_request, reply) => reply.code(204).send());
  const { source } = parts;
  app.get("/api/info", async () => source.info(parts.predictions !== null, parts.acceptConf));
  app.get("/api/images", async () => source.list());
  app.get("/api/image", async (request) => source.detail(queryPath(request)));
  app.get("/api/pixels", async (request, reply) => sendImage(reply, source.imageFile(queryPath(request))));
  app.get("/api/thumb", async (request, reply) => {
    reply.type("image/jpeg").header("cache-control", "private, max-age=3600");
    return parts.thumbnails.get(source.imageFile(queryPath(request)));
  });
  app.post("/api/predict", async (request): Promise<PredictResult> => {
    if (!parts.predictions)
      throw Object.assign(new Error("no model: start the studio with --weights"), { statusCode: 400 });
    const { cells, cached, names } = await parts.predictions.cells(source.imageFile(queryPath(request)));
    return { cells, cached, names: [...names] };
  });
  app.put("/api/labels", { schema: SAVE_SCHEMA }, async (request) =>
    source.save(queryPath(request), request.body as SaveBody),
  );
  return app;
}
