// openStorage URI handling and S3 client settings taken from options and the AWS environment.
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FileStorage, openStorage, resolveS3ClientConfig, S3Storage } from '../../../src/checkpoint/storage/index.ts';
import { JobConfigError, UnknownOptionError } from '../../../src/runtime/errors.ts';
import { type S3rverHandle, startS3rver } from '../../support/s3rver.ts';

const AWS_VARS = [
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
];
const savedEnv = Object.fromEntries(AWS_VARS.map((name) => [name, process.env[name]]));

afterEach(() => {
  for (const name of AWS_VARS) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

function configError(fn: () => unknown): JobConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(JobConfigError);
    return error as JobConfigError;
  }
  throw new Error('expected a JobConfigError');
}

describe('openStorage', () => {
  it('opens file storage for file:// URLs, absolute and relative paths', () => {
    const fromUrl = openStorage('file:///tmp/baton-checkpoints/');
    expect(fromUrl).toBeInstanceOf(FileStorage);
    expect(fromUrl.uri).toBe('file:///tmp/baton-checkpoints');
    expect((fromUrl as FileStorage).directory).toBe('/tmp/baton-checkpoints');
    expect(openStorage('/tmp/baton-checkpoints').uri).toBe('file:///tmp/baton-checkpoints');
    expect((openStorage('data/chk') as FileStorage).directory).toBe(resolve('data/chk'));
    expect((openStorage('file://localhost/tmp/x') as FileStorage).directory).toBe('/tmp/x');
  });

  it('opens S3 storage for s3:// URIs, with or without a key prefix', async () => {
    const withPrefix = openStorage('s3://my-bucket/jobs/prod/', { s3: { region: 'eu-west-1' } });
    expect(withPrefix).toBeInstanceOf(S3Storage);
    expect(withPrefix).toMatchObject({ uri: 's3://my-bucket/jobs/prod', bucket: 'my-bucket', prefix: 'jobs/prod' });
    const bare = openStorage('s3://my-bucket', { s3: { region: 'eu-west-1' } });
    expect(bare).toMatchObject({ uri: 's3://my-bucket', bucket: 'my-bucket', prefix: '' });
    await Promise.all([withPrefix.close(), bare.close()]);
  });

  it('rejects unknown schemes and malformed URIs with JobConfigError on checkpointStorage', () => {
    for (const uri of ['gs://bucket/x', 'http://host/x', '', '   ', 'file:relative/dir', 'file://remote-host/x', 's3://ab', 's3://', 's3://bucket/a/../b', 's3://bucket//x']) {
      const error = configError(() => openStorage(uri));
      expect(error.option, uri).toBe('checkpointStorage');
    }
    expect(configError(() => openStorage('gs://bucket/x')).message).toContain("'gs:'");
  });

  it('never repeats credentials written into a URI', () => {
    for (const uri of ['https://user:hunter2@example.com/x', 's3://AKIA:hunter2@bucket/x', 'file://user:hunter2@/tmp/x']) {
      const error = configError(() => openStorage(uri));
      expect(error.message, uri).not.toContain('hunter2');
    }
  });

  it('rejects a bad concurrency setting', () => {
    expect(configError(() => openStorage('s3://bucket', { s3: { concurrency: 0 } })).option).toBe('s3.concurrency');
  });

  it('names an unknown setting, with the one it likely meant', () => {
    for (const [options, option, suggestion] of [
      [{ s3: { endpiont: 'http://127.0.0.1:9000' } }, 's3.endpiont', 'endpoint'],
      [{ s3: { timeouts: { requestMS: 100 } } }, 's3.timeouts.requestMS', 'requestMs'],
      [{ timeout: { requestMs: 100 } }, 'timeout', 'timeouts'],
      [{ s3: { credentials: { accessKeyID: 'a', secretAccessKey: 'b' } } }, 's3.credentials.accessKeyID', 'accessKeyId'],
    ] as const) {
      const error = configError(() => openStorage('s3://bucket', options as never));
      expect(error).toBeInstanceOf(UnknownOptionError);
      expect(error).toMatchObject({ option, suggestion });
    }
    expect(configError(() => openStorage('/tmp/x', { timeouts: { attempt: 2 } } as never))).toMatchObject({ option: 'timeouts.attempt', suggestion: 'attempts' });
  });
});

describe('resolveS3ClientConfig', () => {
  it('always asks for checksums only when required', () => {
    const config = resolveS3ClientConfig({ region: 'x' }, {});
    expect(config.requestChecksumCalculation).toBe('WHEN_REQUIRED');
    expect(config.responseChecksumValidation).toBe('WHEN_REQUIRED');
  });

  it('takes the endpoint from options, then AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL, implying path style', () => {
    const env = { AWS_ENDPOINT_URL_S3: 'http://s3-only:1', AWS_ENDPOINT_URL: 'http://any:2', AWS_REGION: 'r' };
    expect(resolveS3ClientConfig({}, env)).toMatchObject({ endpoint: 'http://s3-only:1', forcePathStyle: true });
    expect(resolveS3ClientConfig({}, { AWS_ENDPOINT_URL: 'http://any:2' })).toMatchObject({ endpoint: 'http://any:2', forcePathStyle: true });
    expect(resolveS3ClientConfig({ endpoint: 'http://opt:3' }, env)).toMatchObject({ endpoint: 'http://opt:3', forcePathStyle: true });
    expect(resolveS3ClientConfig({ endpoint: 'http://opt:3', forcePathStyle: false }, env).forcePathStyle).toBe(false);
    const aws = resolveS3ClientConfig({ region: 'eu-west-1' }, { AWS_ENDPOINT_URL_S3: '' });
    expect(aws.endpoint).toBeUndefined();
    expect(aws.forcePathStyle).toBe(false);
  });

  it('takes the region from options, then AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1', async () => {
    expect(resolveS3ClientConfig({ region: 'opt' }, { AWS_REGION: 'env' }).region).toBe('opt');
    expect(resolveS3ClientConfig({}, { AWS_REGION: 'env', AWS_DEFAULT_REGION: 'dflt' }).region).toBe('env');
    expect(resolveS3ClientConfig({}, { AWS_DEFAULT_REGION: 'dflt' }).region).toBe('dflt');
    // With nothing configured anywhere (no profile file either), the SDK chain falls back to us-east-1.
    for (const name of AWS_VARS) delete process.env[name];
    process.env.AWS_CONFIG_FILE = '/nonexistent/baton-aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/baton-aws-credentials';
    const region = resolveS3ClientConfig({}, {}).region;
    expect(typeof region).toBe('function');
    expect(await (region as () => Promise<string>)()).toBe('us-east-1');
  });

  it('passes explicit credentials through and otherwise leaves them to the default chain', () => {
    const credentials = { accessKeyId: 'id', secretAccessKey: 'secret' };
    expect(resolveS3ClientConfig({ credentials, region: 'r' }, {}).credentials).toEqual(credentials);
    expect(resolveS3ClientConfig({ region: 'r' }, {}).credentials).toBeUndefined();
  });
});

describe('openStorage against s3rver configured only by the AWS environment', () => {
  let server: S3rverHandle;
  beforeAll(async () => {
    server = await startS3rver();
  });
  afterAll(() => server.close());

  it('picks up AWS_ENDPOINT_URL_S3, env credentials and path style with no s3 options', async () => {
    for (const name of AWS_VARS) delete process.env[name];
    process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1'; // must lose to the S3-specific variable
    process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
    process.env.AWS_CONFIG_FILE = '/nonexistent/baton-aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/baton-aws-credentials';

    const storage = openStorage(`s3://${server.bucket}/from-env`);
    try {
      await storage.put('chk-1/_metadata', new TextEncoder().encode('hello'));
      expect(new TextDecoder().decode(await storage.get('chk-1/_metadata'))).toBe('hello');
      expect(await storage.list('')).toEqual(['chk-1/_metadata']);
    } finally {
      await storage.close();
    }
  });
});
