// Lists: selection, paging with continue tokens, and the response in each representation.
import { badRequest } from "./errors.ts";
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
}

interface ContinueState {
  rv: number;
  after: string;
}

function encodeContinue(state: ContinueState): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: state.rv, start: state.after })).toString(
    "base64url",
  );
}

function decodeContinue(token: string): ContinueState {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as {
      rv?: unknown;
      start?: unknown;
    };
    if (typeof parsed.rv === "number" && typeof parsed.start === "string")
      return { rv: parsed.rv, after: parsed.start };
  } catch {
    // fall through
  }
  throw badRequest(
    "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
  );
}

export interface ListPage {
  /** Objects in the request's API version, in key order. */
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/**
 * Selects a page. Later pages are read from the current state (not a snapshot at the first
 * page's version, as etcd would); the reported version stays the first page's, so a watch from it
 * replays whatever changed in between.
 */
export function selectPage(
  def: ResourceDefinition,
  storage: Storage,
  currentRv: number,
  query: ListQuery,
): ListPage {
  const state = query.continueToken ? decodeContinue(query.continueToken) : undefined;
  const matched: KubeObject[] = [];
  let remaining = 0;
  let lastKey = "";
  const filtered = !query.labels.empty || !query.fields.empty;
  for (const stored of storage.list(query.namespace)) {
    const key = `${stored.metadata.namespace ?? ""}/${stored.metadata.name ?? ""}`;
    if (state && key <= state.after) continue;
    const view = toView(def, stored);
    if (!query.labels.matches(view.metadata.labels)) continue;
    if (!query.fields.matches((f) => fieldValue(def, view, f))) continue;
    if (query.limit > 0 && matched.length >= query.limit) {
      remaining++;
      continue;
    }
    matched.push(view);
    lastKey = key;
  }
  const rv = state?.rv ?? currentRv;
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
