/**
 * Where standby replicas go. The group's partitions are assigned by librdkafka's range
 * assignor, which orders the members by their group instance id (static members) or member id
 * and gives each topic's partitions out in contiguous ranges; so which member would own a task
 * if its owner failed is a function of the set of members, and can be computed by any of them.
 * A task's first standby goes to the member that would own it without its active owner, its
 * second to the one that would own it without those two, and so on: when a member fails, each
 * of its tasks moves to the member that kept it warm.
 */

/** A member of the group as a placement sees it. */
export interface PlacedMember {
  memberId: string;
  /** The group instance id of a static member. */
  instanceId?: string;
}

/** A sub-topology's tasks: one per partition of its (co-partitioned) source topics. */
export interface PlacedSubtopology {
  id: number;
  partitions: number;
}

/** The member (its index in `sorted`) the range assignor gives partition `p` of a topic with `partitions` partitions. */
export function rangeOwner(members: number, partitions: number, p: number): number {
  const each = Math.floor(partitions / members);
  const extra = partitions % members;
  const inExtra = extra * (each + 1);
  return p < inExtra ? Math.floor(p / (each + 1)) : extra + Math.floor((p - inExtra) / each);
}

/** Members in the range assignor's order: by group instance id when all have one, else by member id. */
export function assignorOrder(members: readonly PlacedMember[]): PlacedMember[] {
  const allStatic = members.every((m) => m.instanceId !== undefined);
  const key = (m: PlacedMember) => (allStatic ? m.instanceId! : m.memberId);
  return [...members].sort((a, b) => compareBytes(key(a), key(b)));
}

/** Byte order of the UTF-8 encodings, as the assignor compares them. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The tasks (`<sub>_<partition>`) member `self` keeps standby replicas of: for each task, the
 * members that would own it after its owner, then that member too, ... failed, up to `replicas`.
 */
export function standbyTasksOf(self: string, members: readonly PlacedMember[], subtopologies: readonly PlacedSubtopology[], replicas: number): Set<string> {
  const standbys = new Set<string>();
  const sorted = assignorOrder(members);
  if (!sorted.some((m) => m.memberId === self) || replicas < 1) return standbys;
  for (const { id, partitions } of subtopologies) {
    for (let p = 0; p < partitions; p++) {
      let remaining = sorted;
      for (let r = 0; r < replicas && remaining.length > 1; r++) {
        const owner = remaining[rangeOwner(remaining.length, partitions, p)]!;
        remaining = remaining.filter((m) => m !== owner);
        const next = remaining[rangeOwner(remaining.length, partitions, p)]!;
        if (next.memberId === self) {
          standbys.add(`${id}_${p}`);
          break;
        }
      }
    }
  }
  return standbys;
}

/** The tasks the range assignor gives member `self` among `members`. */
export function activeTasksOf(self: string, members: readonly PlacedMember[], subtopologies: readonly PlacedSubtopology[]): Set<string> {
  const active = new Set<string>();
  const sorted = assignorOrder(members);
  const index = sorted.findIndex((m) => m.memberId === self);
  if (index < 0) return active;
  for (const { id, partitions } of subtopologies) {
    for (let p = 0; p < partitions; p++) if (rangeOwner(sorted.length, partitions, p) === index) active.add(`${id}_${p}`);
  }
  return active;
}
