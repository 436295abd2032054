// Standby placement: where the range assignor puts a task when members fail, computed the way
// librdkafka orders members and hands out ranges, so each task's standby sits where the task
// goes when its owner fails.
import { expect } from 'chai';
import { assignorOrder, rangeOwner, standbyTasksOf, type PlacedMember } from '../../engine/runtime/standby/standby-placement.ts';

/** The range assignment spelled out: member i gets `each` partitions, the first `extra` members one more. */
function ranges(members: number, partitions: number): number[] {
  const owners: number[] = [];
  const each = Math.floor(partitions / members);
  const extra = partitions % members;
  for (let m = 0; m < members; m++) for (let i = 0; i < each + (m < extra ? 1 : 0); i++) owners.push(m);
  return owners;
}

describe('standby placement', () => {
  it('finds the range owner of every partition, for any member and partition count', () => {
    for (let members = 1; members <= 9; members++) {
      for (let partitions = 1; partitions <= 30; partitions++) {
        const expected = ranges(members, partitions);
        expect(Array.from({ length: partitions }, (_, p) => rangeOwner(members, partitions, p)), `${members} members, ${partitions} partitions`).to.deep.equal(expected);
      }
    }
  });

  it('orders static members by instance id and dynamic ones by member id, byte by byte', () => {
    const members: PlacedMember[] = [
      { memberId: 'm-3', instanceId: 'app-b' },
      { memberId: 'm-1', instanceId: 'app-c' },
      { memberId: 'm-2', instanceId: 'app-a' },
    ];
    expect(assignorOrder(members).map((m) => m.instanceId)).to.deep.equal(['app-a', 'app-b', 'app-c']);
    expect(assignorOrder(members.map(({ memberId }) => ({ memberId }))).map((m) => m.memberId)).to.deep.equal(['m-1', 'm-2', 'm-3']);
    expect(assignorOrder([{ memberId: 'Z' }, { memberId: 'a' }]).map((m) => m.memberId)).to.deep.equal(['Z', 'a']);
  });

  it('puts each task of a member where the task goes when that member fails', () => {
    const members = ['a', 'b', 'c'].map((memberId) => ({ memberId }));
    const subs = [{ id: 0, partitions: 12 }];
    const of = (self: string) => [...standbyTasksOf(self, members, subs, 1)].sort((x, y) => Number(x.split('_')[1]) - Number(y.split('_')[1]));
    // a owns 0-3, b 4-7, c 8-11. Without a, b owns 0-5; without b, a owns 0-5 and c 6-11; without c, b owns 6-11.
    expect(of('a')).to.deep.equal(['0_4', '0_5']);
    expect(of('b')).to.deep.equal(['0_0', '0_1', '0_2', '0_3', '0_8', '0_9', '0_10', '0_11']);
    expect(of('c')).to.deep.equal(['0_6', '0_7']);
  });

  it('gives every task as many standbys as asked, none on its owner, each where a failure chain sends it', () => {
    for (const count of [2, 3, 4, 7]) {
      const members = Array.from({ length: count }, (_, i) => ({ memberId: `member-${(i * 7919) % 101}` }));
      const subs = [{ id: 0, partitions: 12 }, { id: 1, partitions: 5 }];
      for (const replicas of [1, 2]) {
        const holders = new Map<string, string[]>();
        for (const m of members) for (const task of standbyTasksOf(m.memberId, members, subs, replicas)) holders.set(task, [...(holders.get(task) ?? []), m.memberId]);
        const sorted = assignorOrder(members);
        for (const { id, partitions } of subs) {
          for (let p = 0; p < partitions; p++) {
            const owner = sorted[rangeOwner(sorted.length, partitions, p)]!.memberId;
            const held = holders.get(`${id}_${p}`) ?? [];
            expect(held, `${count} members, task ${id}_${p}`).to.have.length(Math.min(replicas, count - 1));
            expect(held).to.not.include(owner);
            // The first standby is the owner once the active owner is gone.
            const without = sorted.filter((m) => m.memberId !== owner);
            expect(held).to.include(without[rangeOwner(without.length, partitions, p)]!.memberId);
          }
        }
      }
    }
  });
});
