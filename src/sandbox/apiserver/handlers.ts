// The verbs on resource paths: get, list, watch, create, update, patch, delete, deletecollection.
import type { IncomingMessage, ServerResponse } from "node:http";
import { asKubeObject, checkTypeMeta, parseBody } from "./decode.ts";
import { ApiError, badRequest, conflict, invalid, methodNotAllowed, staleObjectMessage } from "./errors.ts";
import type { Faults } from "./faults.ts";
import { isObject, type Json, type JsonObject } from "./json.ts";
import { renderList, selectPage } from "./list.ts";
import { validateListOptions } from "./list-options.ts";
import { bodyFormat, negotiate, patchType, type Representation } from "./negotiation.ts";
import type { KubeObject } from "./object.ts";
import { applyJsonPatch, PatchError } from "./patch/json-patch.ts";
import { applyMergePatch } from "./patch/merge-patch.ts";
import { applyStrategicMergePatch } from "./patch/strategic-merge-patch.ts";
import type { Registry } from "./registry.ts";
import { fieldLabels, groupVersion, type ResourceDefinition, toView } from "./resource.ts";
import { send } from "./respond.ts";
import { parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { partialMetadata, toTable } from "./tables.ts";
import { WatchStream } from "./watch.ts";

export interface ResourceRoute {
  def: ResourceDefinition;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  /** The deprecated /watch/ path prefix was used. */
  watchPath: boolean;
}

export interface HandlerContext {
  registry: Registry;
  faults: Faults;
  watches: Set<WatchStream>;
  bookmarkIntervalMs: number;
}

export interface ResourceRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: Buffer;
}

const trueValues = new Set(["1", "t", "T", "true", "TRUE", "True"]);

function boolParam(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value !== null && trueValues.has(value);
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (!/^-?\d+$/.test(value)) throw badRequest(`${name}: Invalid value: "${value}": must be an integer`);
  return Number(value);
}

/** A 422 for a bad query option, as `CreateOptions.meta.k8s.io "" is invalid: ...`. */
function optionsInvalid(kind: string, field: string, message: string, reason: string): ApiError {
  return invalid(kind, "meta.k8s.io", "", [{ reason, message, field }]);
}

const optionsKinds: Record<string, string> = {
  POST: "CreateOptions",
  PUT: "UpdateOptions",
  PATCH: "PatchOptions",
  DELETE: "DeleteOptions",
};

function dryRun(query: URLSearchParams, method: string): boolean {
  const values = query.getAll("dryRun");
  if (values.some((v) => v !== "All")) {
    throw optionsInvalid(
      optionsKinds[method] ?? "CreateOptions",
      "dryRun",
      `Unsupported value: ${JSON.stringify(values)}: supported values: "All"`,
      "FieldValueNotSupported",
    );
  }
  return values.length > 0;
}

function verbAllowed(def: ResourceDefinition, verb: string): void {
  if (!def.verbs.includes(verb)) throw methodNotAllowed();
}

/** The response shape for one object in the negotiated representation. */
function renderObject(def: ResourceDefinition, view: KubeObject, rep: Representation): JsonObject {
  if (rep.kind === "table") return toTable(def, [view], { tableVersion: rep.version, include: rep.include });
  if (rep.kind === "partial") return partialMetadata(view, `meta.k8s.io/${rep.version}`);
  return view;
}

function decodeObject(def: ResourceDefinition, r: ResourceRequest): KubeObject {
  const obj = asKubeObject(parseBody(r.body, bodyFormat(r.req.headers["content-type"]), def.kind), def.kind);
  checkTypeMeta(obj, groupVersion(def), def.kind);
  return obj;
}

/** Converts a request-version object to the stored shape, after the typed decoder's checks. */
function toStored(def: ResourceDefinition, obj: KubeObject): KubeObject {
  def.strategy.decode?.(obj);
  return def.conversion ? def.conversion.toStorage(obj) : obj;
}

/** A patch that does not apply: the real server says no more than this (no details). */
function patchFailure(error: unknown): never {
  if (error instanceof PatchError) {
    throw new ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {});
  }
  throw error;
}

/** Server-side apply needs a field manager; with one, the emulator (which has no apply) says 415. */
function refuseApply(query: URLSearchParams): never {
  if (!query.get("fieldManager")) {
    throw optionsInvalid(
      "PatchOptions",
      "fieldManager",
      "Required value: is required for apply patch",
      "FieldValueRequired",
    );
  }
  throw new ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {});
}

function parsePatch(body: Buffer, type: string): Json {
  let patch: Json;
  try {
    patch = JSON.parse(body.toString("utf8")) as Json;
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
  if (type === "json" && !Array.isArray(patch)) {
    throw badRequest(
      `error decoding patch: json: cannot unmarshal ${isObject(patch) ? "object" : typeof patch} into Go value of type []handlers.jsonPatchOp`,
    );
  }
  if (type !== "json" && !isObject(patch))
    throw badRequest("error decoding patch: the patch must be a JSON object");
  return patch;
}

function applyPatch(def: ResourceDefinition, current: KubeObject, r: ResourceRequest): KubeObject {
  const type = patchType(r.req.headers["content-type"]);
  if (type === "apply") refuseApply(r.url.searchParams);
  const patch = parsePatch(r.body, type);
  let patched: Json;
  try {
    if (type === "json") patched = applyJsonPatch(current, patch);
    else if (type === "merge") patched = applyMergePatch(structuredClone(current), patch);
    else patched = applyStrategicMergePatch(current, patch, def.kind);
  } catch (error) {
    patchFailure(error);
  }
  if (!isObject(patched)) throw new ApiError(422, "Invalid", "the patched object is not a JSON object");
  const obj = asKubeObject(patched, def.kind);
  checkTypeMeta(obj, groupVersion(def), def.kind);
  return obj;
}

export async function handleResource(
  ctx: HandlerContext,
  route: ResourceRoute,
  r: ResourceRequest,
): Promise<void> {
  const { def, namespace, name, subresource } = route;
  const { registry } = ctx;
  const query = r.url.searchParams;
  const method = r.req.method ?? "GET";
  const rep = negotiate(r.req.headers.accept, query.get("includeObject"));
  const pretty = boolParam(query, "pretty");
  const reply = (code: number, obj: KubeObject) =>
    send(r.res, code, renderObject(def, toView(def, obj), rep), rep, pretty);
  const isWatch = method === "GET" && (route.watchPath || boolParam(query, "watch"));
  const info = { method, path: r.url.pathname, watch: isWatch };

  if (ctx.faults.takeConflict(info)) {
    throw conflict(def, name ?? "", staleObjectMessage);
  }

  if (method === "GET" && (isWatch || name === undefined)) {
    verbAllowed(def, isWatch ? "watch" : "list");
    const selector =
      name === undefined
        ? query.get("fieldSelector")
        : [query.get("fieldSelector"), `metadata.name=${name}`].filter(Boolean).join(",");
    const labels = parseLabelSelector(query.get("labelSelector"));
    const fields = parseFieldSelector(selector, fieldLabels(def));
    validateListOptions(query, isWatch);
    if (isWatch) return startWatch(ctx, route, r, rep, labels, fields);
    const page = selectPage(def, registry.storage(def), registry.clock.current, {
      namespace,
      labels,
      fields,
      limit: intParam(query, "limit") ?? 0,
      continueToken: query.get("continue"),
      resourceVersion: query.get("resourceVersion"),
      resourceVersionMatch: query.get("resourceVersionMatch"),
    });
    return send(r.res, 200, renderList(def, page, rep), rep, pretty);
  }

  const dry = dryRun(query, method);
  switch (method) {
    case "GET": {
      verbAllowed(def, "get");
      return reply(200, registry.get(def, namespace, name ?? ""));
    }
    case "POST": {
      if (name !== undefined) throw methodNotAllowed();
      verbAllowed(def, "create");
      const created = registry.create(def, namespace, toStored(def, decodeObject(def, r)), { dryRun: dry });
      return reply(201, created);
    }
    case "PUT": {
      if (name === undefined) throw methodNotAllowed();
      verbAllowed(def, "update");
      const obj = decodeObject(def, r);
      const result = registry.update(def, namespace, name, toStored(def, obj), subresource, { dryRun: dry });
      return reply(result.created ? 201 : 200, result.object);
    }
    case "PATCH": {
      if (name === undefined) throw methodNotAllowed();
      verbAllowed(def, "patch");
      const current = registry.get(def, namespace, name);
      const patched = applyPatch(def, toView(def, current), r);
      const stored = toStored(def, patched);
      const result = registry.update(def, namespace, name, stored, subresource, { dryRun: dry });
      return reply(200, result.object);
    }
    case "DELETE": {
      if (subresource) throw methodNotAllowed();
      const options = deleteOptions(r.body);
      if (name === undefined) return deleteCollection(ctx, route, r, rep, dry);
      verbAllowed(def, "delete");
      const result = registry.delete(def, namespace, name, {
        dryRun: dry,
        preconditions: options.preconditions,
      });
      if (result.removed && !def.strategy.returnDeletedObject) {
        const details: JsonObject = { name, kind: def.resource, uid: result.object.metadata.uid ?? "" };
        if (def.group) details.group = def.group;
        return send(
          r.res,
          200,
          { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details },
          rep,
          pretty,
        );
      }
      return reply(200, result.object);
    }
    default:
      throw methodNotAllowed();
  }
}

interface ParsedDeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

function deleteOptions(body: Buffer): ParsedDeleteOptions {
  if (body.length === 0) return {};
  let parsed: Json;
  try {
    parsed = JSON.parse(body.toString("utf8")) as Json;
  } catch (error) {
    throw badRequest(`error decoding DeleteOptions: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw badRequest("DeleteOptions must be a JSON object");
  const pre = parsed.preconditions;
  if (!isObject(pre)) return {};
  const preconditions: { uid?: string; resourceVersion?: string } = {};
  if (typeof pre.uid === "string") preconditions.uid = pre.uid;
  if (typeof pre.resourceVersion === "string") preconditions.resourceVersion = pre.resourceVersion;
  return { preconditions };
}

function deleteCollection(
  ctx: HandlerContext,
  route: ResourceRoute,
  r: ResourceRequest,
  rep: Representation,
  dry: boolean,
): void {
  const { def, namespace } = route;
  verbAllowed(def, "deletecollection");
  const query = r.url.searchParams;
  const page = selectPage(def, ctx.registry.storage(def), ctx.registry.clock.current, {
    namespace,
    labels: parseLabelSelector(query.get("labelSelector")),
    fields: parseFieldSelector(query.get("fieldSelector"), fieldLabels(def)),
    limit: 0,
    continueToken: null,
    resourceVersion: null,
    resourceVersionMatch: null,
  });
  const deleted = page.items.map((item) => {
    const result = ctx.registry.delete(def, item.metadata.namespace, item.metadata.name ?? "", {
      dryRun: dry,
    });
    return toView(def, result.object);
  });
  send(
    r.res,
    200,
    renderList(def, { items: deleted, resourceVersion: String(ctx.registry.clock.current) }, rep),
    rep,
  );
}

function startWatch(
  ctx: HandlerContext,
  route: ResourceRoute,
  r: ResourceRequest,
  rep: Representation,
  labels: ReturnType<typeof parseLabelSelector>,
  fields: ReturnType<typeof parseFieldSelector>,
): void {
  const query = r.url.searchParams;
  const rvParam = query.get("resourceVersion");
  let resourceVersion: number | undefined;
  if (rvParam !== null && rvParam !== "") {
    // The watch cache's parse error escapes as a bare 500 (no reason) on the real server.
    if (!/^\d+$/.test(rvParam)) {
      throw new ApiError(
        500,
        "",
        `resourceVersion: Invalid value: ${JSON.stringify(rvParam)}: strconv.ParseUint: parsing ${JSON.stringify(rvParam)}: invalid syntax`,
      );
    }
    resourceVersion = Number(rvParam);
  }
  const timeoutSeconds = intParam(query, "timeoutSeconds");
  const stream = new WatchStream(
    r.res,
    {
      def: route.def,
      storage: ctx.registry.storage(route.def),
      clock: ctx.registry.clock,
      namespace: route.namespace,
      labels,
      fields,
      resourceVersion,
      sendInitialEvents: query.has("sendInitialEvents") ? boolParam(query, "sendInitialEvents") : undefined,
      bookmarkIntervalMs: boolParam(query, "allowWatchBookmarks") ? ctx.bookmarkIntervalMs : undefined,
      timeoutMs: timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined,
      representation: rep.kind === "yaml" ? { kind: "json" } : rep,
      forceGone: ctx.faults.takeExpiredWatch(),
    },
    () => ctx.watches.delete(stream),
  );
  ctx.watches.add(stream);
  stream.start();
}
