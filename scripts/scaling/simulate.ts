/**
 * `node --import tsx scripts/scaling/simulate.ts [instances] [partitions] [sub-topologies]`: the
 * range assignment and the standby placement of a large application, on paper: how many tasks
 * each instance runs and keeps as standbys, how many tasks move when one instance fails (and
 * whether each lands on its standby), when one joins, and the size of the routing table and of
 * the instances topic's announcements. Uses the engine's own placement code.
 */
import { activeTasksOf, assignorOrder, rangeOwner, standbyTasksOf, type PlacedMember } from '../../engine/runtime/standby/standby-placement.ts';

const instances = Number(process.argv[2] ?? 100);
const partitions = Number(process.argv[3] ?? 1_000);
const subtopologies = Number(process.argv[4] ?? 2);
const subs = Array.from({ length: subtopologies }, (_, id) => ({ id, partitions }));
const named = (n: number): PlacedMember[] => Array.from({ length: n }, (_, i) => ({ memberId: `m-${i}`, instanceId: `app-node-${String(i).padStart(4, '0')}` }));

function owners(members: PlacedMember[]): Map<string, string> {
  const sorted = assignorOrder(members);
  const owner = new Map<string, string>();
  for (const { id, partitions: count } of subs) for (let p = 0; p < count; p++) owner.set(`${id}_${p}`, sorted[rangeOwner(sorted.length, count, p)]!.memberId);
  return owner;
}

const members = named(instances);
const before = owners(members);
const perInstance = members.map((m) => activeTasksOf(m.memberId, members, subs).size);
const standbys = members.map((m) => standbyTasksOf(m.memberId, members, subs, 1));
const standbyCounts = standbys.map((s) => s.size);

// One instance fails: which tasks move, and does each land where its standby is?
const failed = members[Math.floor(instances / 2)]!;
const after = owners(members.filter((m) => m !== failed));
let moved = 0;
let movedFromFailed = 0;
let ontoStandby = 0;
for (const [task, owner] of after) {
  if (before.get(task) === owner) continue;
  moved++;
  if (before.get(task) === failed.memberId) {
    movedFromFailed++;
    const holder = members.findIndex((m) => m.memberId === owner);
    if (standbys[holder]!.has(task)) ontoStandby++;
  }
}

// One instance joins (named to sort last).
const grown = [...members, { memberId: 'm-new', instanceId: 'app-node-9999' }];
const afterJoin = owners(grown);
let movedOnJoin = 0;
for (const [task, owner] of afterJoin) if (before.get(task) !== owner) movedOnJoin++;

const tasks = before.size;
// An announcement: instance id, endpoint, state, heartbeat, key (~250 bytes) and ~16 bytes per task or standby.
const announcementBytes = (t: number, s: number) => 250 + 16 * (t + s);
const biggest = announcementBytes(Math.max(...perInstance), Math.max(...standbyCounts));
const report = {
  instances,
  partitions,
  subtopologies,
  tasks,
  activePerInstance: { min: Math.min(...perInstance), max: Math.max(...perInstance) },
  standbysPerInstance: { min: Math.min(...standbyCounts), max: Math.max(...standbyCounts) },
  oneFails: { tasksMoved: moved, ofTheFailedInstance: movedFromFailed, ontoTheirStandby: ontoStandby, tasksOfOthersMoved: moved - movedFromFailed },
  oneJoins: { tasksMoved: movedOnJoin },
  routingTable: { entries: tasks, approxBytes: tasks * 48 },
  instancesTopic: { largestAnnouncementBytes: biggest, bytesPerSecondAtOneHeartbeat: Math.round(instances * announcementBytes(tasks / instances, tasks / instances)) },
};
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
