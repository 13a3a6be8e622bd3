// CPU time of server processes from /proc (Linux): what redis-server and PostgreSQL spent on a bench run,
// which wall-clock figures on a shared machine cannot show.
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU times in these ticks (100 on every common build). */
const TICKS_PER_S = 100;

interface Stat {
  readonly ppid: number;
  /** utime + stime of the process itself. */
  readonly own: number;
  /** cutime + cstime: its children that exited and were waited for. */
  readonly reaped: number;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces: the fields after it start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  const n = (field: number) => Number(fields[field - 3]);
  return { ppid: n(4), own: n(14) + n(15), reaped: n(16) + n(17) };
}

/**
 * CPU ms used so far by `pid`, its live children and its children that exited (PostgreSQL: the
 * postmaster, its backends and background workers); undefined where /proc is missing.
 *
 * @example const before = processTreeCpuMs(pg.pid); ...; const used = processTreeCpuMs(pg.pid)! - before!;
 */
export function processTreeCpuMs(pid: number): number | undefined {
  for (let attempt = 0; attempt < 10; attempt++) {
    const root = stat(pid);
    if (root === undefined) return undefined;
    let ticks = root.own + root.reaped;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const child = stat(Number(entry));
      if (child?.ppid === pid) ticks += child.own + child.reaped;
    }
    // A child reaped while the children were listed is in neither sum: read again.
    if (stat(pid)?.reaped === root.reaped) return (ticks * 1000) / TICKS_PER_S;
  }
  return undefined;
}
