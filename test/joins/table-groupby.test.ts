// Re-keyed table aggregations under the TestDriver (Kafka Streams' KTable.groupBy): a row that
// moves to another group is subtracted from the old and added to the new; a deleted row leaves
// its group.
import { expect } from 'chai';
import { defineApplication, Serdes, TestDriver } from 'sluice';
import type { ApplicationDefinition } from '../../engine/runtime/definition.ts';
import { changeSerde } from '../../engine/serde/change-serde.ts';

type Topology = ApplicationDefinition['topology'];
interface User {
  country: string;
  age: number;
}

describe('re-keyed table aggregations (TestDriver)', () => {
  const drivers: TestDriver[] = [];
  const start = async (topology: Topology) => {
    const driver = await TestDriver.create(defineApplication({ applicationId: 'regroup-test', keySerde: Serdes.string(), valueSerde: Serdes.json(), topology }));
    drivers.push(driver);
    return driver;
  };
  afterEach(async () => {
    for (const d of drivers.splice(0)) await d.close();
  });

  it('counts users per country as users move and leave', async () => {
    const driver = await start((b) =>
      b
        .table<string, User>('users', { name: 'users', caching: false })
        .groupBy((_, user) => [user.country, user])
        .count({ name: 'per-country', caching: false })
        .toStream()
        .to('counts'),
    );
    const users = driver.inputTopic<string, User | null>('users');
    await users.pipe('u1', { country: 'FR', age: 30 });
    await users.pipe('u2', { country: 'FR', age: 40 });
    await users.pipe('u1', { country: 'DE', age: 30 });
    await users.pipe('u2', { country: 'FR', age: 41 });
    await users.pipe('u2', null);
    expect(driver.outputTopic<string, number>('counts').readKeyValues()).to.deep.equal([
      ['FR', 1],
      ['FR', 2],
      // u1 moves: subtracted from FR, then added to DE.
      ['FR', 1],
      ['DE', 1],
      // u2 changes within FR: one change, subtract then add, in one update.
      ['FR', 1],
      ['FR', 0],
    ]);
    const store = driver.store<string, number>('per-country');
    expect([store.get('FR'), store.get('DE')]).to.deep.equal([0, 1]);
  });

  it('sums with aggregate and reduce, an adder and a subtractor each', async () => {
    const driver = await start((b) => {
      const grouped = b.table<string, User>('users', { name: 'users' }).groupBy((_, user) => [user.country, user.age], { value: Serdes.json<number>() });
      grouped.aggregate(() => 0, (_, age, sum) => sum + age, (_, age, sum) => sum - age, { name: 'age-sum' });
      grouped.reduce((sum, age) => sum + age, (sum, age) => sum - age, { name: 'age-reduced' });
    });
    const users = driver.inputTopic<string, User>('users');
    await users.pipe('u1', { country: 'FR', age: 30 });
    await users.pipe('u2', { country: 'FR', age: 40 });
    await users.pipe('u1', { country: 'DE', age: 31 });
    for (const name of ['age-sum', 'age-reduced']) {
      const store = driver.store<string, number>(name);
      expect([store.get('FR'), store.get('DE')], name).to.deep.equal([40, 31]);
    }
  });

  it('starts a group again from the initializer when the subtractor emptied it (null), within one change too', async () => {
    const driver = await start((b) =>
      b
        .table<string, User>('users', { name: 'users', caching: false })
        .groupBy((key, user) => [user.country, key])
        .aggregate<string[]>(
          () => [],
          (_, user, members) => [...members, user].sort(),
          (_, user, members) => {
            const left = members.filter((m) => m !== user);
            return (left.length === 0 ? null : left) as string[];
          },
          { name: 'members', caching: false, value: Serdes.json<string[]>() },
        )
        .toStream()
        .to('members'),
    );
    const users = driver.inputTopic<string, User>('users');
    await users.pipe('u1', { country: 'FR', age: 30 });
    // The only member changes within its group: subtracted (the group empties, null), then added.
    await users.pipe('u1', { country: 'FR', age: 31 });
    await users.pipe('u2', { country: 'FR', age: 20 });
    expect(driver.outputTopic<string, string[] | null>('members').readKeyValues()).to.deep.equal([
      ['FR', ['u1']],
      ['FR', ['u1']],
      ['FR', ['u1', 'u2']],
    ]);
  });

  it('writes a change to its repartition topic as one record, old and new value together or apart', () => {
    const serde = changeSerde(Serdes.json<{ n: number }>());
    for (const change of [{ newValue: { n: 1 }, oldValue: { n: 2 } }, { newValue: { n: 1 }, oldValue: null }, { newValue: null, oldValue: { n: 2 } }]) {
      expect(serde.deserialize(serde.serialize(change, 't'), 't')).to.deep.equal(change);
    }
    expect(() => serde.deserialize(Buffer.from([9, 1, 2]), 't')).to.throw(/not a table change written by Sluice/);
    expect(() => serde.deserialize(Buffer.from([3, 0, 0, 0, 9, 1]), 't')).to.throw(/not a table change written by Sluice/);
  });
});
