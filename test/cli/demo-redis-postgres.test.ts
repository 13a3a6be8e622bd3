// `baton demo redis-postgres` end to end on a real redis-server and PostgreSQL (the demo starts them): A runs,
// B takes over when it is ready, the table holds every click exactly once. And the check it relies on catches
// a duplicate, a lost click and a miscount; a missing redis-server fails with the command that installs it.
import { describe, expect, it } from 'vitest';
import { exactlyOnceProblem, type ProducedClick, type UserClicksRow } from '../../examples/redis-postgres/clicks.ts';
import { main } from '../../src/cli/main.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('baton demo redis-postgres', { timeout: 60_000 }, () => {
  it('hands over from A to B on Redis Streams and PostgreSQL; the table holds every click once', async () => {
    const { io, out, err } = capture();
    const code = await main(['node', 'baton', 'demo', 'redis-postgres', '--rate', '1000', '--after', '500'], io);
    const text = out.join('\n');
    expect(code, `${text}\n${err.join('\n')}`).toBe(0);
    expect(text).toMatch(/A STANDBY/);
    expect(text).toMatch(/B WAITING_FOR_START_SIGNAL/);
    expect(text).toMatch(/target chosen\s+when B was ready/);
    const produced = /([\d,]+) clicks produced; user_clicks has ([\d,]+) rows; every click once, each user's clicks counted 1\.\.n: yes/.exec(text);
    expect(produced, text).not.toBeNull();
    expect(produced![2]).toBe(produced![1]);
    expect(text).toContain('prepared transactions left: 0');
    expect(text).toMatch(/downtime \d+ ms \(A's last record → B's first record\)/);
  });

  it('fails before starting anything when redis-server is missing, naming the command that installs it', async () => {
    const saved = process.env.BATON_REDIS_SERVER;
    process.env.BATON_REDIS_SERVER = '/nonexistent/redis-server';
    try {
      const { io, err } = capture();
      const code = await main(['node', 'baton', 'demo', 'redis-postgres'], io);
      expect(code).toBe(1);
      expect(err.join('\n')).toContain('redis-server is needed by `baton demo redis-postgres`');
      expect(err.join('\n')).toContain('apt-get install -y redis-server');
    } finally {
      if (saved === undefined) delete process.env.BATON_REDIS_SERVER;
      else process.env.BATON_REDIS_SERVER = saved;
    }
  });
});

describe('exactlyOnceProblem (the demo\'s check)', () => {
  const produced: ProducedClick[] = [
    { stream: 's0', id: '1-0', user: 'u1' },
    { stream: 's1', id: '1-0', user: 'u1' },
    { stream: 's0', id: '2-0', user: 'u2' },
  ];
  const rows: UserClicksRow[] = [
    { stream: 's0', entry: '1-0', user_id: 'u1', clicks: 1 },
    { stream: 's1', entry: '1-0', user_id: 'u1', clicks: 2 },
    { stream: 's0', entry: '2-0', user_id: 'u2', clicks: 1 },
  ];

  it('accepts every click once with each user counted 1..n, in any order', () => {
    expect(exactlyOnceProblem([...rows].reverse(), produced)).toBeUndefined();
  });

  it('names a duplicate, a lost click, a foreign row, a wrong user and a miscount', () => {
    expect(exactlyOnceProblem([...rows, rows[0]], produced)).toBe('click s0/1-0 has two rows');
    expect(exactlyOnceProblem(rows.slice(1), produced)).toBe('1 of 3 clicks have no row');
    expect(exactlyOnceProblem([...rows, { stream: 's0', entry: '3-0', user_id: 'u1', clicks: 3 }], produced)).toBe('row for s0/3-0, which was never produced');
    expect(exactlyOnceProblem([rows[0], rows[1], { ...rows[2], user_id: 'u1' }], produced)).toBe("click s0/2-0 is u2's, its row says u1");
    expect(exactlyOnceProblem([rows[0], { ...rows[1], clicks: 1 }, rows[2]], produced)).toMatch(/^u1's clicks are counted 1, 1…, expected 1 to 2$/);
  });
});
