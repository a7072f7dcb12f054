// The state of the cluster and every write to it: create, update (main and /status), delete
// with finalizers, namespace termination and owner-based garbage collection. Objects here are in
// stored shape; the HTTP layer converts to and from the requested API version.
import { randomUUID } from "node:crypto";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  FieldErrors,
  forbidden,
  notFound,
  type StatusDetails,
  staleObjectMessage,
} from "./errors.ts";
import { arrayAt, child, deepEqual, isObject } from "./json.ts";
import { validateObjectMeta, validateObjectMetaForUpdate } from "./kinds/common.ts";
import { protectedNamespaces } from "./kinds/namespaces.ts";
import { Allocations } from "./kinds/service-allocations.ts";
import { generateName } from "./names.ts";
import { canonicalOrder, isTerminating, type KubeObject, keyOf, objectKey, timestamp } from "./object.ts";
import { OwnerIndex } from "./owner-index.ts";
import type { ResourceDefinition, StrategyContext } from "./resource.ts";
import { Clock, type EventType, Storage } from "./storage.ts";

export interface WriteOptions {
  dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  object: KubeObject;
  /** True when the object is gone; false when it waits for finalizers. */
  removed: boolean;
}

/** What no update may change (rest.BeforeUpdate): identity, creation, generation, deletion. */
function carrySystemFields(next: KubeObject, current: KubeObject): void {
  const meta = next.metadata;
  const old = current.metadata;
  meta.uid = old.uid;
  meta.creationTimestamp = old.creationTimestamp;
  meta.generation = old.generation;
  meta.deletionTimestamp = old.deletionTimestamp;
  meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
  delete meta.managedFields;
  delete meta.selfLink;
}

function withoutVersion(obj: KubeObject): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
}

function finalizersPending(def: ResourceDefinition, obj: KubeObject): boolean {
  if ((obj.metadata.finalizers ?? []).length > 0) return true;
  return (
    isNamespaces(def) && (arrayAt(isObject(obj.spec) ? obj.spec : undefined, "finalizers") ?? []).length > 0
  );
}

function isNamespaces(def: ResourceDefinition): boolean {
  return def.group === "" && def.resource === "namespaces";
}

export class Registry {
  readonly clock = new Clock();
  readonly allocations = new Allocations();
  readonly definitions: readonly ResourceDefinition[];
  private readonly storages = new Map<string, Storage>();
  /** The definition whose shape each storage holds (the one without a conversion). */
  private readonly storageDefs = new Map<string, ResourceDefinition>();
  private readonly owners = new OwnerIndex();
  private readonly ctx: StrategyContext;
  private readonly namespaceDef: ResourceDefinition;
  private readonly pending = new Set<NodeJS.Immediate>();

  constructor(definitions: readonly ResourceDefinition[], windowSize: number) {
    this.definitions = definitions;
    this.ctx = { allocations: this.allocations };
    for (const def of definitions) {
      if (!this.storages.has(def.storage))
        this.storages.set(def.storage, new Storage(def.storage, windowSize, 0));
      if (!def.conversion) this.storageDefs.set(def.storage, def);
    }
    const namespaceDef = definitions.find(isNamespaces);
    if (!namespaceDef) throw new Error("the namespaces resource is required");
    this.namespaceDef = namespaceDef;
  }

  /** Validation errors name the stored kind's group (events.k8s.io Events are core Events). */
  private errorGroup(def: ResourceDefinition): string {
    return this.storageDefs.get(def.storage)?.group ?? def.group;
  }

  storage(def: ResourceDefinition): Storage {
    const storage = this.storages.get(def.storage);
    if (!storage) throw new Error(`no storage ${def.storage}`);
    return storage;
  }

  /** Stops background work (namespace cleanup, garbage collection) scheduled but not yet run. */
  stop(): void {
    for (const handle of this.pending) clearImmediate(handle);
    this.pending.clear();
  }

  get(def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject {
    const obj = this.storage(def).get(objectKey(def.namespaced ? namespace : undefined, name));
    if (!obj) throw notFound(def, name);
    return obj;
  }

  create(
    def: ResourceDefinition,
    namespace: string | undefined,
    input: KubeObject,
    opts: WriteOptions = {},
  ): KubeObject {
    const obj = this.normalised(def, input, namespace);
    const meta = obj.metadata;
    // The storage layer's own refusal: a 500 with neither reason nor details.
    if (meta.resourceVersion)
      throw new ApiError(500, "", "resourceVersion should not be set on objects to be created");
    const storage = this.storage(def);
    if (!meta.name && meta.generateName) {
      do meta.name = generateName(meta.generateName);
      while (storage.get(keyOf(obj)));
    }
    const name = meta.name ?? "";
    if (def.namespaced) this.admitIntoNamespace(def, namespace ?? "", name);

    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    // Kinds that do not track generation keep whatever the client sent, as kube-apiserver does.
    if (def.strategy.bumpsGeneration) meta.generation = 1;
    for (const field of ["deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"])
      delete meta[field];
    if (def.strategy.statusSubresource && !def.strategy.keepStatusOnCreate) delete obj.status;
    def.strategy.prepareCreate?.(obj, this.ctx);

    const errors = new FieldErrors();
    validateObjectMeta(obj, def.strategy.nameRule, errors);
    def.strategy.validate?.(obj, undefined, errors, def.group);
    errors.throwIfAny(def.kind, this.errorGroup(def), name);
    if (storage.get(keyOf(obj))) throw alreadyExists(def, name);
    def.strategy.allocate?.(obj, undefined, errors, this.ctx);
    errors.throwIfAny(def.kind, this.errorGroup(def), name);
    if (opts.dryRun) return canonicalOrder(obj);
    return this.commit(def, "ADDED", obj, undefined);
  }

  /** PUT of the object or of its /status. Creates when the kind allows create-on-update. */
  update(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    input: KubeObject,
    subresource: string | undefined,
    opts: WriteOptions = {},
  ): { object: KubeObject; created: boolean } {
    if (input.metadata.name !== undefined && input.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const obj = this.normalised(def, input, namespace);
    obj.metadata.name = name;
    const current = this.storage(def).get(keyOf(obj));
    if (!current) {
      if (subresource || !def.strategy.createOnUpdate || input.metadata.resourceVersion)
        throw notFound(def, name);
      return { object: this.create(def, namespace, obj, opts), created: true };
    }
    this.checkPreconditions(def, current, input.metadata.uid, input.metadata.resourceVersion);

    const errors = new FieldErrors();
    const next = obj;
    carrySystemFields(next, current);
    if (subresource === "status") {
      // Like the real status strategies: spec stays, metadata and status come from the request.
      if (current.spec === undefined) delete next.spec;
      else next.spec = structuredClone(current.spec);
      def.strategy.prepareStatusUpdate?.(next, current);
      validateObjectMetaForUpdate(next, current, def.strategy.nameRule, errors);
      def.strategy.validateStatus?.(next, current, errors);
    } else {
      if (def.strategy.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = structuredClone(current.status);
      }
      def.strategy.prepareUpdate?.(next, current, this.ctx);
      validateObjectMetaForUpdate(next, current, def.strategy.nameRule, errors);
      def.strategy.validate?.(next, current, errors, def.group);
      errors.throwIfAny(def.kind, this.errorGroup(def), name);
      def.strategy.allocate?.(next, current, errors, this.ctx);
      if (def.strategy.bumpsGeneration?.(next, current))
        next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    }
    errors.throwIfAny(def.kind, this.errorGroup(def), name);

    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (deepEqual(withoutVersion(next), withoutVersion(current))) return { object: current, created: false };
    if (opts.dryRun) return { object: canonicalOrder(next), created: false };
    if (isTerminating(next) && !finalizersPending(def, next)) {
      return { object: this.remove(def, current, next), created: false };
    }
    return { object: this.commit(def, "MODIFIED", next, current), created: false };
  }

  delete(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): DeleteResult {
    const current = this.get(def, namespace, name);
    this.checkDeletePreconditions(def, current, opts.preconditions);
    if (isNamespaces(def) && protectedNamespaces.includes(name)) {
      throw forbidden(def, name, "this namespace may not be deleted");
    }
    if (isNamespaces(def) || finalizersPending(def, current)) {
      if (isTerminating(current)) return { object: current, removed: false };
      const next = structuredClone(current);
      next.metadata.deletionTimestamp = timestamp();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (isNamespaces(def)) child(next, "status").phase = "Terminating";
      if (opts.dryRun) return { object: canonicalOrder(next), removed: false };
      const stored = this.commit(def, "MODIFIED", next, current);
      if (isNamespaces(def)) this.later(() => this.finalizeNamespace(name));
      return { object: stored, removed: false };
    }
    if (opts.dryRun) return { object: current, removed: true };
    return { object: this.remove(def, current, current), removed: true };
  }

  /** Creates the namespaces and the `kubernetes` Service every cluster starts with. */
  seed(): void {
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      this.create(this.namespaceDef, undefined, { metadata: { name } });
    }
    const services = this.definitions.find((d) => d.group === "" && d.resource === "services");
    if (services) {
      this.create(services, "default", {
        metadata: { name: "kubernetes", labels: { component: "apiserver", provider: "kubernetes" } },
        spec: {
          type: "ClusterIP",
          clusterIP: "10.96.0.1",
          ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }],
        },
      });
    }
  }

  /** Sets kind/apiVersion to the stored shape's and namespace to the request's. */
  private normalised(def: ResourceDefinition, input: KubeObject, namespace: string | undefined): KubeObject {
    const storageDef = this.storageDefs.get(def.storage) ?? def;
    const obj: KubeObject = { ...input, metadata: { ...input.metadata } };
    obj.kind = storageDef.kind;
    obj.apiVersion = storageDef.group ? `${storageDef.group}/${storageDef.version}` : storageDef.version;
    if (def.namespaced) {
      if (input.metadata.namespace && input.metadata.namespace !== namespace) {
        throw badRequest(
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      obj.metadata.namespace = namespace;
    } else {
      delete obj.metadata.namespace;
    }
    return obj;
  }

  private admitIntoNamespace(def: ResourceDefinition, namespace: string, name: string): void {
    const ns = this.storage(this.namespaceDef).get(namespace);
    if (!ns) throw notFound(this.namespaceDef, namespace);
    if (isTerminating(ns)) {
      throw forbidden(
        def,
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  private checkPreconditions(
    def: ResourceDefinition,
    current: KubeObject,
    uid: string | undefined,
    resourceVersion: string | undefined,
  ): void {
    const name = current.metadata.name ?? "";
    if (uid && uid !== current.metadata.uid) {
      throw conflict(
        def,
        name,
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`,
      );
    }
    if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(def, name, staleObjectMessage);
    }
  }

  /** DeleteOptions.preconditions, refused in the storage layer's words (and with the kind's name). */
  private checkDeletePreconditions(
    def: ResourceDefinition,
    current: KubeObject,
    preconditions: DeleteOptions["preconditions"],
  ): void {
    const { uid, resourceVersion } = current.metadata;
    const why =
      preconditions?.uid && preconditions.uid !== uid
        ? `the UID in the precondition (${preconditions.uid}) does not match the UID in record (${uid}). The object might have been deleted and then recreated`
        : preconditions?.resourceVersion && preconditions.resourceVersion !== resourceVersion
          ? `the ResourceVersion in the precondition (${preconditions.resourceVersion}) does not match the ResourceVersion in record (${resourceVersion}). The object might have been modified`
          : undefined;
    if (!why) return;
    const name = current.metadata.name ?? "";
    const group = this.errorGroup(def);
    const details: StatusDetails = group ? { name, group, kind: def.kind } : { name, kind: def.kind };
    const qualified = group ? `${def.kind}.${group}` : def.kind;
    throw new ApiError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${qualified} "${name}": ${why}`,
      details,
    );
  }

  private commit(
    def: ResourceDefinition,
    type: EventType,
    next: KubeObject,
    previous: KubeObject | undefined,
  ): KubeObject {
    const rv = this.clock.next();
    const stored = canonicalOrder({ ...next, metadata: { ...next.metadata, resourceVersion: String(rv) } });
    const key = keyOf(stored);
    const storage = this.storage(def);
    storage.commit({ rv, type, object: stored, previous }, key);
    const kept = type === "DELETED" ? undefined : stored;
    this.owners.update(def.storage, key, previous, kept);
    def.strategy.committed?.(previous, kept, this.ctx);
    return stored;
  }

  /** Removes `current` for good; `last` is its final state (differs when finalizers just emptied). */
  private remove(def: ResourceDefinition, current: KubeObject, last: KubeObject): KubeObject {
    const stored = this.commit(def, "DELETED", last, current);
    const namespace = stored.metadata.namespace;
    if (def.namespaced && namespace) {
      const ns = this.storage(this.namespaceDef).get(namespace);
      if (ns && isTerminating(ns)) this.later(() => this.finalizeNamespace(namespace));
    }
    const uid = stored.metadata.uid;
    if (uid && this.owners.dependentsOf(uid).length > 0) this.later(() => this.collectDependents(uid));
    return stored;
  }

  private later(work: () => void): void {
    const handle = setImmediate(() => {
      this.pending.delete(handle);
      work();
    });
    this.pending.add(handle);
  }

  /** The namespace controller's job: delete the contents, then the namespace itself. */
  private finalizeNamespace(name: string): void {
    const current = this.storage(this.namespaceDef).get(name);
    if (!current || !isTerminating(current)) return;
    let remaining = 0;
    for (const [storageName, storage] of this.storages) {
      const def = this.storageDefs.get(storageName);
      if (!def?.namespaced) continue;
      for (const obj of storage.list(name)) {
        remaining++;
        if (!isTerminating(obj)) this.delete(def, name, obj.metadata.name ?? "");
      }
    }
    const live = this.storage(this.namespaceDef).get(name);
    if (remaining > 0 || !live) return;
    const emptied = structuredClone(live);
    child(emptied, "spec").finalizers = [];
    if ((live.metadata.finalizers ?? []).length > 0)
      this.commit(this.namespaceDef, "MODIFIED", emptied, live);
    else this.remove(this.namespaceDef, live, emptied);
  }

  /** The garbage collector's job: delete objects whose every owner is gone. */
  private collectDependents(uid: string): void {
    for (const ref of this.owners.dependentsOf(uid)) {
      const def = this.storageDefs.get(ref.storage);
      const obj = def ? this.storage(def).get(ref.key) : undefined;
      if (!def || !obj || isTerminating(obj) || !this.owners.orphaned(obj)) continue;
      this.delete(def, obj.metadata.namespace, obj.metadata.name ?? "");
    }
  }
}
