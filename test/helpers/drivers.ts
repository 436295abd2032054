import { afterEach } from 'mocha';
import { TestDriver } from 'sluice';

/** Starts test drivers for the suite it is called in (inside `describe`), closing each after its test. */
export function driverStarter(): (...args: Parameters<typeof TestDriver.create>) => Promise<TestDriver> {
  const open: TestDriver[] = [];
  afterEach(async () => {
    for (const driver of open.splice(0)) await driver.close();
  });
  return async (...args) => {
    const driver = await TestDriver.create(...args);
    open.push(driver);
    return driver;
  };
}
