// Testing the fraud-rules example (broadcast state) with baton/testing: its alerts against a plain
// reference, the same at every parallelism, and the same after a crash and a restore at another one.
// Run with `npx vitest run examples/testing`.
import { describe, expect, it } from 'vitest';
import { testJob } from 'baton/testing';
import fraudRules, { type Alert, ruleTimeline, transaction } from '../fraud-rules.ts';
import { alertLine as line, referenceAlerts } from './fraud-rules-reference.ts';

const TRANSACTIONS = 4_000;
const ACCOUNTS = 60;
const params = { transactions: TRANSACTIONS, accounts: ACCOUNTS };
const expected = referenceAlerts(
  Array.from({ length: TRANSACTIONS }, (_, n) => transaction(n, ACCOUNTS)),
  ruleTimeline(TRANSACTIONS),
);

describe('fraud-rules job', () => {
  it('alerts exactly as the reference, at parallelism 1 and 3 (rules reach every subtask)', async () => {
    // Every rule kind fires, and rules that change mid-run change the alerts.
    for (const rule of ['big-amount', 'burst', 'sanctions']) expect(expected.some((l) => l.includes(`,${rule},`))).toBe(true);
    for (const parallelism of [1, 3]) {
      const driver = await testJob(fraudRules, { parallelism, params, inputs: [] });
      await driver.finish();
      expect(driver.output<Alert>('alerts').committed.map(line).sort()).toEqual(expected);
      expect(driver.output('late').committed).toEqual([]);
    }
  });

  it('a crash after a checkpoint and a restore at another parallelism give the same alerts, each committed once', async () => {
    const a = await testJob(fraudRules, { parallelism: 2, params, inputs: ['transactions'] });
    const input = a.input<number>('transactions');
    await input.pushAll(Array.from({ length: TRANSACTIONS / 2 }, (_, n) => n));
    const cp = await a.checkpoint();
    // Pushed after the checkpoint: lost with the crash, read again by the restored job.
    await input.pushAll(Array.from({ length: 500 }, (_, n) => TRANSACTIONS / 2 + n));
    await a.crash();
    const b = await testJob(fraudRules, { parallelism: 3, params, inputs: ['transactions'], restoreFrom: cp });
    await b.input<number>('transactions').pushAll(Array.from({ length: TRANSACTIONS / 2 - 500 }, (_, n) => TRANSACTIONS / 2 + 500 + n));
    await b.finish();
    expect(b.output<Alert>('alerts').committed.map(line).sort()).toEqual(expected);
  });
});
