// The pure parts: cumulative totals into counter deltas, status durations, credential redaction.
import { describe, expect, it } from 'vitest';
import { CumulativeDeltas } from '../../src/metrics/cumulative-deltas.ts';
import { storageSweepRecord } from '../../src/metrics/lifecycle-records.ts';
import { redactCredentials } from '../../src/metrics/redact.ts';
import { StatusDurations } from '../../src/metrics/status-durations.ts';

describe('CumulativeDeltas', () => {
  it('adds the growth of a running total, and the whole total after it went down (a restart)', () => {
    const d = new CumulativeDeltas();
    expect(d.advance('a', 100)).toBe(100);
    expect(d.advance('a', 250)).toBe(150);
    expect(d.advance('b', 7)).toBe(7);
    expect(d.advance('a', 250)).toBe(0);
    expect(d.advance('a', 40)).toBe(40);
  });

  it('counts from 0 again after reset', () => {
    const d = new CumulativeDeltas();
    d.advance('a', 100);
    d.reset();
    expect(d.advance('a', 120)).toBe(120);
  });
});

describe('StatusDurations', () => {
  it('tells how long the job stayed in the status it left', () => {
    const s = new StatusDurations({ status: 'CREATED', at: 1_000 });
    expect(s.next({ status: 'INITIALIZING', previous: 'CREATED', at: 1_040 })).toEqual({ status: 'CREATED', ms: 40 });
    expect(s.next({ status: 'RESTORING', previous: 'INITIALIZING', at: 1_100 })).toEqual({ status: 'INITIALIZING', ms: 60 });
    expect(s.next({ status: 'RESTORING', previous: 'RESTORING', at: 1_200 })).toBeUndefined();
  });
});

describe('redactCredentials', () => {
  it('removes URI passwords, signatures, secret settings and access key ids, and keeps the rest', () => {
    expect(redactCredentials('s3://user:secret@host/bucket/x failed')).toBe('s3://***@host/bucket/x failed');
    expect(redactCredentials('GET https://h/o?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP%2F2024&X-Amz-Signature=deadbeef&x=1')).toBe(
      'GET https://h/o?X-Amz-Credential=***&X-Amz-Signature=***&x=1',
    );
    expect(redactCredentials('aws_secret_access_key=abc123 region=eu')).toBe('aws_secret_access_key=*** region=eu');
    expect(redactCredentials('key AKIAABCDEFGHIJKLMNOP denied')).toBe('key *** denied');
    expect(redactCredentials('file:///data/refdata.bin')).toBe('file:///data/refdata.bin');
  });
});

describe('storageSweepRecord', () => {
  const report = { discarded: [1, 2], abandoned: [3], orphans: ['a', 'b', 'c'], temporaries: 1, unreadable: [] };

  it('says what a sweep removed, and when it ran', () => {
    expect(storageSweepRecord({ report, takeover: true })).toEqual({
      level: 'info',
      msg: 'storage sweep',
      fields: { event: 'storage-sweep', when: 'takeover', discarded: 2, abandoned: 1, orphans: 3, temporaries: 1 },
    });
  });

  it('warns when a sweep failed, without credentials in the text', () => {
    const record = storageSweepRecord({ error: new Error('storage list of shared in s3://key:secret@b failed') });
    expect(record.level).toBe('warn');
    expect(record.fields.when).toBe('scheduled');
    expect(String(record.fields.error)).not.toContain('secret');
  });
});
