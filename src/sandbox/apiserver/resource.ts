import type { FieldErrors, ResourceName } from "./errors.ts";
import type { JsonObject } from "./json.ts";
import type { Allocations } from "./kinds/service-allocations.ts";
import type { NameRule } from "./names.ts";
import type { KubeObject } from "./object.ts";

/** What a kind's rules may consult while preparing a write. */
export interface StrategyContext {
  readonly allocations: Allocations;
}

/** The per-kind rules a write goes through, mirroring kube-apiserver's REST strategies. */
export interface KindStrategy {
  readonly nameRule: NameRule;
  /** Main endpoint keeps the stored status; /status changes nothing but status. */
  readonly statusSubresource: boolean;
  /** Status given on create is kept (nodes) instead of being reset. */
  readonly keepStatusOnCreate?: boolean;
  /** PUT of a missing object creates it. */
  readonly createOnUpdate: boolean;
  /** Immediate deletes answer with the deleted object rather than a Status. */
  readonly returnDeletedObject?: boolean;
  /** Extra field selector labels (metadata.name and metadata.namespace are always there). */
  readonly fieldLabels?: Readonly<Record<string, (obj: KubeObject) => string>>;
  /** Refuses what the typed decoder would (wrong JSON types): a 400 before anything else. */
  decode?(obj: KubeObject): void;
  /** Resets and defaults a new object before validation. */
  prepareCreate?(obj: KubeObject, ctx: StrategyContext): void;
  /** Carries over and defaults fields of an updated object before validation. */
  prepareUpdate?(obj: KubeObject, old: KubeObject, ctx: StrategyContext): void;
  /** `group` is the request's API group (a resource served in two groups may check differently). */
  validate?(obj: KubeObject, old: KubeObject | undefined, errors: FieldErrors, group: string): void;
  /** Allocates cluster resources (IPs, ports) once the object is otherwise valid. */
  allocate?(obj: KubeObject, old: KubeObject | undefined, errors: FieldErrors, ctx: StrategyContext): void;
  /**
   * Whether an update bumps metadata.generation; kinds without it do not track generation at all
   * (kube-apiserver keeps what the create carried, and no update changes it).
   */
  bumpsGeneration?(obj: KubeObject, old: KubeObject): boolean;
  /** Carries over what a /status update may not change besides spec (which never changes there). */
  prepareStatusUpdate?(obj: KubeObject, old: KubeObject): void;
  validateStatus?(obj: KubeObject, old: KubeObject, errors: FieldErrors): void;
  /** Keeps derived state in step with what was stored (both undefined never happens). */
  committed?(previous: KubeObject | undefined, next: KubeObject | undefined, ctx: StrategyContext): void;
}

/** Converts between an API version's shape and the stored shape. */
export interface VersionConversion {
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
  readonly fieldLabels?: Readonly<Record<string, (obj: KubeObject) => string>>;
}

export interface ResourceDefinition extends ResourceName {
  readonly group: string;
  readonly version: string;
  /** Plural resource name as in URLs. */
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly verbs: readonly string[];
  readonly subresources: readonly string[];
  /** Name of the storage; API versions of one resource share it. */
  readonly storage: string;
  readonly strategy: KindStrategy;
  readonly conversion?: VersionConversion;
  /**
   * The fields an empty object of the kind serialises (Go zero values without omitempty), which a
   * BOOKMARK's object carries besides its metadata.
   */
  readonly zeroFields?: JsonObject;
}

export const standardVerbs = [
  "create",
  "delete",
  "deletecollection",
  "get",
  "list",
  "patch",
  "update",
  "watch",
];

export function groupVersion(def: Pick<ResourceDefinition, "group" | "version">): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** The object as this API version shows it, with kind and apiVersion set. */
export function toView(def: ResourceDefinition, stored: KubeObject): KubeObject {
  if (def.conversion) return def.conversion.fromStorage(stored);
  if (stored.kind === def.kind && stored.apiVersion === groupVersion(def)) return stored;
  return { ...stored, kind: def.kind, apiVersion: groupVersion(def) };
}

export function fieldValue(def: ResourceDefinition, obj: KubeObject, field: string): string {
  if (field === "metadata.name") return obj.metadata.name ?? "";
  if (field === "metadata.namespace") return obj.metadata.namespace ?? "";
  const getter = def.conversion?.fieldLabels?.[field] ?? def.strategy.fieldLabels?.[field];
  return getter ? getter(obj) : "";
}

export function fieldLabels(def: ResourceDefinition): string[] {
  const extra = def.conversion?.fieldLabels ?? def.strategy.fieldLabels ?? {};
  return ["metadata.name", "metadata.namespace", ...Object.keys(extra)];
}
