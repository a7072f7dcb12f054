// Lists: selection, paging with continue tokens, and the response in each representation.
import { badRequest, expired, tooLargeResourceVersion } from "./errors.ts";
import type { JsonObject } from "./json.ts";
import type { Representation } from "./negotiation.ts";
import type { KubeObject } from "./object.ts";
import { fieldValue, groupVersion, type ResourceDefinition, toView } from "./resource.ts";
import type { FieldSelector, LabelSelector } from "./selectors.ts";
import type { Storage } from "./storage.ts";
import { partialMetadata, toTable } from "./tables.ts";

export interface ListQuery {
  namespace: string | undefined;
  labels: LabelSelector;
  fields: FieldSelector;
  limit: number;
  continueToken: string | null;
  resourceVersion: string | null;
  resourceVersionMatch: string | null;
}

interface ContinueState {
  /** The snapshot the pages read; -1 (a token handed out after a 410) reads the latest state. */
  rv: number;
  after: string;
}

function encodeContinue(state: ContinueState): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: state.rv, start: state.after })).toString(
    "base64url",
  );
}

function decodeContinue(token: string): ContinueState {
  let why = "illegal base64 data";
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      v?: unknown;
      rv?: unknown;
      start?: unknown;
    };
    if (parsed.v === "meta.k8s.io/v1" && typeof parsed.rv === "number" && typeof parsed.start === "string")
      return { rv: parsed.rv, after: parsed.start };
    why = "incorrect encoded start resourceVersion (version meta.k8s.io/v1)";
  } catch (error) {
    why = (error as Error).message;
  }
  throw badRequest(`invalid continue token: continue key is not valid: ${why}`);
}

export interface ListPage {
  /** Objects in the request's API version, in key order. */
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/** Which state a list reads: the latest (undefined) or the snapshot at a version. */
interface ReadPlan {
  at: number | undefined;
  after: string | undefined;
  limit: number;
}

export function parseResourceVersion(value: string): number {
  if (!/^\d+$/.test(value)) {
    throw badRequest(
      `invalid resource version: resourceVersion: Invalid value: ${JSON.stringify(value)}: strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`,
    );
  }
  return Number(value);
}

/** The resourceVersion semantics of a list (kube-apiserver's cacher and etcd3 store). */
function plan(query: ListQuery, currentRv: number): ReadPlan {
  if (query.continueToken) {
    if (query.resourceVersion)
      throw badRequest("specifying resource version is not allowed when using continue");
    const state = decodeContinue(query.continueToken);
    return { at: state.rv < 0 ? undefined : state.rv, after: state.after, limit: query.limit };
  }
  const rv = query.resourceVersion;
  if (!rv) return { at: undefined, after: undefined, limit: query.limit };
  // "0" is served from the watch cache, which does not page.
  if (rv === "0") return { at: undefined, after: undefined, limit: 0 };
  const wanted = parseResourceVersion(rv);
  if (wanted > currentRv) throw tooLargeResourceVersion(wanted, currentRv);
  // Without a match, a limit makes the version exact (the legacy meaning).
  const exact = query.resourceVersionMatch === "Exact" || (!query.resourceVersionMatch && query.limit > 0);
  return { at: exact ? wanted : undefined, after: undefined, limit: query.limit };
}

const continueExpired =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/** The objects a plan reads, or the 410 of a version the event window no longer reaches. */
function snapshot(storage: Storage, read: ReadPlan, namespace: string | undefined): KubeObject[] {
  if (read.at === undefined) return storage.list(namespace);
  const objects = storage.listAt(read.at, namespace);
  if (objects) return objects;
  if (read.after === undefined) throw expired("The resourceVersion for the provided list is too old.");
  throw expired(continueExpired, { continue: encodeContinue({ rv: -1, after: read.after }) });
}

/** Selects a page: later pages read the snapshot of the first page's version, as etcd does. */
export function selectPage(
  def: ResourceDefinition,
  storage: Storage,
  currentRv: number,
  query: ListQuery,
): ListPage {
  const read = plan(query, currentRv);
  const matched: KubeObject[] = [];
  let remaining = 0;
  let lastKey = "";
  const filtered = !query.labels.empty || !query.fields.empty;
  for (const stored of snapshot(storage, read, query.namespace)) {
    const key = `${stored.metadata.namespace ?? ""}/${stored.metadata.name ?? ""}`;
    if (read.after !== undefined && key <= read.after) continue;
    const view = toView(def, stored);
    if (!query.labels.matches(view.metadata.labels)) continue;
    if (!query.fields.matches((f) => fieldValue(def, view, f))) continue;
    if (read.limit > 0 && matched.length >= read.limit) {
      remaining++;
      continue;
    }
    matched.push(view);
    lastKey = key;
  }
  const rv = read.at ?? currentRv;
  const page: ListPage = { items: matched, resourceVersion: String(rv) };
  if (remaining > 0) {
    page.continueToken = encodeContinue({ rv, after: lastKey });
    if (!filtered) page.remainingItemCount = remaining;
  }
  return page;
}

const itemJson = new WeakMap<KubeObject, string>();

/** An item as lists show it: without kind and apiVersion, like kube-apiserver's typed lists. */
function listItemJson(obj: KubeObject): string {
  let json = itemJson.get(obj);
  if (json === undefined) {
    const { kind: _kind, apiVersion: _apiVersion, ...rest } = obj;
    json = JSON.stringify(rest);
    itemJson.set(obj, json);
  }
  return json;
}

/** The response body for a page, serialised (JSON) or as an object (tables, metadata). */
export function renderList(
  def: ResourceDefinition,
  page: ListPage,
  representation: Representation,
): string | JsonObject {
  const metadata: JsonObject = { resourceVersion: page.resourceVersion };
  if (page.continueToken) metadata.continue = page.continueToken;
  if (page.remainingItemCount !== undefined) metadata.remainingItemCount = page.remainingItemCount;
  if (representation.kind === "table") {
    const table = toTable(def, page.items, {
      tableVersion: representation.version,
      include: representation.include,
    });
    table.metadata = metadata;
    return table;
  }
  if (representation.kind === "partial") {
    return {
      kind: "PartialObjectMetadataList",
      apiVersion: `meta.k8s.io/${representation.version}`,
      metadata,
      items: page.items.map((o) => {
        const { kind: _k, apiVersion: _a, ...rest } = partialMetadata(o);
        return rest;
      }),
    };
  }
  const head = JSON.stringify({ kind: `${def.kind}List`, apiVersion: groupVersion(def), metadata });
  return `${head.slice(0, -1)},"items":[${page.items.map(listItemJson).join(",")}]}`;
}
