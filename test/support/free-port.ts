// A free loopback port for servers that cannot bind port 0; it lives in src/local-servers.
export { freePort } from '../../src/local-servers/index.ts';
