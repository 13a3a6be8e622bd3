// The fraud-rules example's alerts computed the plain way (no runtime), for its tests and the e2e kill test.
import type { Alert, RuleUpdate, Transaction } from '../fraud-rules.ts';

/** An alert as one comparable line. */
export const alertLine = (a: Alert): string => `${a.account},${a.tx},${a.rule},${a.at}`;

/** What the job should alert, computed the plain way: each account's transactions in time order, each rule as it stood then. */
export function referenceAlerts(transactions: readonly Transaction[], updates: readonly RuleUpdate[]): string[] {
  const alerts: string[] = [];
  const byAccount = new Map<string, Transaction[]>();
  for (const tx of transactions) byAccount.set(tx.account, [...(byAccount.get(tx.account) ?? []), tx]);
  const ruleIds = [...new Set(updates.map((u) => u.id))].sort();
  for (const txs of byAccount.values()) {
    const ordered = [...txs].sort((a, b) => a.at - b.at || a.id - b.id);
    ordered.forEach((tx, i) => {
      for (const id of ruleIds) {
        const effective = updates.filter((u) => u.id === id && u.at <= tx.at).sort((a, b) => a.at - b.at);
        const rule = effective.at(-1)?.rule;
        if (!rule) continue;
        let hit = false;
        if (rule.kind === 'max-amount') hit = tx.amount > rule.limit;
        if (rule.kind === 'blocked-countries') hit = rule.countries.includes(tx.country);
        if (rule.kind === 'velocity') hit = ordered.slice(0, i + 1).filter((t) => t.at > tx.at - rule.withinMs).length > rule.count;
        if (hit) alerts.push(alertLine({ account: tx.account, tx: tx.id, rule: id, at: tx.at }));
      }
    });
  }
  return alerts.sort();
}
