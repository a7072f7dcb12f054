// Which stored objects name which owners (by uid), so dependents can be collected when their
// last owner goes away, as kube-controller-manager's garbage collector does.
import type { KubeObject } from "./object.ts";

export interface ObjectRef {
  storage: string;
  key: string;
}

function ownerUids(obj: KubeObject | undefined): string[] {
  return (obj?.metadata.ownerReferences ?? [])
    .map((ref) => ref.uid)
    .filter((uid): uid is string => typeof uid === "string");
}

export class OwnerIndex {
  private readonly byOwner = new Map<string, Map<string, ObjectRef>>();
  private readonly live = new Set<string>();

  /** Records that `previous` became `next` (either may be absent) in `storage` under `key`. */
  update(storage: string, key: string, previous: KubeObject | undefined, next: KubeObject | undefined): void {
    const id = `${storage}|${key}`;
    for (const uid of ownerUids(previous)) {
      const dependents = this.byOwner.get(uid);
      dependents?.delete(id);
      if (dependents?.size === 0) this.byOwner.delete(uid);
    }
    if (previous?.metadata.uid) this.live.delete(previous.metadata.uid);
    if (next?.metadata.uid) this.live.add(next.metadata.uid);
    for (const uid of ownerUids(next)) {
      let dependents = this.byOwner.get(uid);
      if (!dependents) {
        dependents = new Map();
        this.byOwner.set(uid, dependents);
      }
      dependents.set(id, { storage, key });
    }
  }

  dependentsOf(uid: string): ObjectRef[] {
    return [...(this.byOwner.get(uid)?.values() ?? [])];
  }

  /** True when no owner of `obj` exists any more (and it has at least one). */
  orphaned(obj: KubeObject): boolean {
    const uids = ownerUids(obj);
    return uids.length > 0 && uids.every((uid) => !this.live.has(uid));
  }
}
