import { KeyedSerial } from './keyed-serial';

describe('KeyedSerial', () => {
  it('runs one key’s tasks one after another, other keys at once, past a failure', async () => {
    const serial = new KeyedSerial();
    const log: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      () =>
        new Promise<string>((resolve, reject) =>
          setTimeout(() => {
            log.push(name);
            if (fail) reject(new Error(name));
            else resolve(name);
          }, ms),
        );
    const results = await Promise.allSettled([serial.run('a', task('a1', 30, true)), serial.run('a', task('a2', 1)), serial.run('b', task('b1', 10))]);
    expect(log).toEqual(['b1', 'a1', 'a2']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });
});
