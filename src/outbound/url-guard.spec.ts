import type { LookupAddress } from 'node:dns';
import { AppConfig } from '../config/app-config';
import { parseEnvironment } from '../config/environment';
import { Outbound } from './outbound.module';
import { HostResolver, UrlRefusedError } from './url-guard';

/** A resolver with fixed answers. */
class FixedResolver extends HostResolver {
  constructor(private readonly answers: Record<string, string[]>) {
    super();
  }
  override resolve(hostname: string): Promise<LookupAddress[]> {
    const found = this.answers[hostname];
    return found ? Promise.resolve(found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))) : Promise.reject(new Error('ENOTFOUND'));
  }
}

/** The webhooks' guard, as the application builds it from the environment. */
const guard = (env: Record<string, string> = {}, answers: Record<string, string[]> = {}) =>
  new Outbound(new AppConfig(parseEnvironment(env)), new FixedResolver(answers)).webhooks;
const refused = (promise: Promise<void>) => expect(promise).rejects.toBeInstanceOf(UrlRefusedError);

describe('UrlGuard', () => {
  it('takes https to public addresses, and http only when the operator allows it', async () => {
    await expect(guard().check('https://93.184.216.34/hook')).resolves.toBeUndefined();
    await expect(guard({}, { 'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'] }).check('https://hooks.example.com/x')).resolves.toBeUndefined();
    await refused(guard().check('http://93.184.216.34/hook'));
    await expect(guard({ WEBHOOK_ALLOW_HTTP: 'true' }).check('http://93.184.216.34/hook')).resolves.toBeUndefined();
    await refused(guard().check('ftp://93.184.216.34/'));
    await refused(guard().check('not a url'));
    await refused(guard().check('https://user:secret@93.184.216.34/'));
  });

  it.each([
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['0.0.0.0', 'unspecified'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['[::1]', 'loopback'],
    ['[fd00::1]', 'uniqueLocal'],
    ['[fe80::1]', 'linkLocal'],
    ['[::ffff:10.0.0.1]', 'private'],
    ['[::ffff:a9fe:a9fe]', 'linkLocal'],
  ])('refuses %s (%s) unless allow-listed', async (host, range) => {
    await expect(guard().check(`https://${host}/hook`)).rejects.toThrow(new RegExp(`a ${range} address`));
  });

  it('refuses a name when any of its addresses is not public, and one that does not resolve', async () => {
    const g = guard({}, { 'mixed.example': ['93.184.216.34', '10.0.0.5'], 'metadata.example': ['169.254.169.254'] });
    await refused(g.check('https://mixed.example/'));
    await refused(g.check('https://metadata.example/'));
    await refused(g.check('https://nowhere.example/'));
  });

  it('lets WEBHOOK_ALLOWED_HOSTS name hostnames, addresses and CIDRs', async () => {
    const g = guard(
      { WEBHOOK_ALLOWED_HOSTS: 'internal.corp, 127.0.0.1, 10.20.0.0/16, fd00::/8' },
      { 'internal.corp': ['10.99.0.1'], 'other.corp': ['10.99.0.1'] },
    );
    await expect(g.check('https://internal.corp/')).resolves.toBeUndefined();
    await expect(g.check('https://127.0.0.1:8443/')).resolves.toBeUndefined();
    await expect(g.check('https://10.20.3.4/')).resolves.toBeUndefined();
    await expect(g.check('https://[fd00::7]/')).resolves.toBeUndefined();
    await refused(g.check('https://127.0.0.2/'));
    await refused(g.check('https://10.21.0.1/'));
    await refused(g.check('https://other.corp/'));
  });

  it('refuses a bad CIDR in the configuration at start', () => {
    expect(() => guard({ WEBHOOK_ALLOWED_HOSTS: '10.0.0.0/99' })).toThrow(/WEBHOOK_ALLOWED_HOSTS/);
  });

  it('checks at connection time through the lookup it gives http.request', async () => {
    const lookup = guard({}, { 'rebound.example': ['127.0.0.1'], 'fine.example': ['93.184.216.34'] }).lookup();
    const call = (host: string, all: boolean) =>
      new Promise<unknown>((resolve, reject) => lookup(host, { all }, (error: Error | null, address: unknown) => (error ? reject(error) : resolve(address))));
    await expect(call('rebound.example', false)).rejects.toBeInstanceOf(UrlRefusedError);
    await expect(call('fine.example', false)).resolves.toBe('93.184.216.34');
    await expect(call('fine.example', true)).resolves.toEqual([{ address: '93.184.216.34', family: 4 }]);
  });
});

describe('UrlGuard for MCP servers', () => {
  const mcp = (env: Record<string, string> = {}) => new Outbound(new AppConfig(parseEnvironment(env)), new FixedResolver({})).mcp.guard;

  it.each([
    ['http://169.254.169.254/latest/meta-data', 'linkLocal'],
    ['http://[::ffff:169.254.169.254]/', 'linkLocal'],
    ['http://10.0.0.8:8080/mcp', 'private'],
    ['http://172.31.255.1/mcp', 'private'],
    ['http://192.168.0.10/mcp', 'private'],
    ['http://100.100.100.200/mcp', 'carrierGradeNat'],
    ['http://[fd12:3456::1]/mcp', 'uniqueLocal'],
    ['http://[fe80::1]/mcp', 'linkLocal'],
    ['http://[::1]:5432/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://0/', 'unspecified'],
    ['http://224.0.0.1/', 'multicast'],
  ])('refuses %s (%s) before any connection, naming MCP_ALLOWED_HOSTS', (url, range) => {
    expect(() => mcp({ MCP_ALLOW_HTTP: 'true' }).target(url)).toThrow(new RegExp(`a ${range} address \\(not allowed unless MCP_ALLOWED_HOSTS names it\\)`));
  });

  it('takes https only unless MCP_ALLOW_HTTP, no credentials, and its own allowlist, not the webhooks one', () => {
    expect(mcp().target('https://93.184.216.34/mcp').hostname).toBe('93.184.216.34');
    expect(() => mcp().target('http://93.184.216.34/mcp')).toThrow(UrlRefusedError);
    expect(() => mcp().target('file:///etc/passwd')).toThrow(UrlRefusedError);
    expect(() => mcp({ MCP_ALLOW_HTTP: 'true' }).target('http://u:p@93.184.216.34/')).toThrow(/credentials/);
    expect(() => mcp({ WEBHOOK_ALLOWED_HOSTS: '10.0.0.0/8' }).target('https://10.1.1.1/')).toThrow(/private/);
    expect(mcp({ MCP_ALLOWED_HOSTS: '10.0.0.0/8' }).target('https://10.1.1.1/').hostname).toBe('10.1.1.1');
    expect(() => guard({ MCP_ALLOWED_HOSTS: '10.0.0.0/8' }).checkAddress('10.1.1.1', '10.1.1.1')).toThrow(/WEBHOOK_ALLOWED_HOSTS/);
  });

  it('does not tell a tenant what an internal name resolves to (webhook registration still does)', async () => {
    const answers = { 'db.internal': ['10.0.3.4'] };
    const mcpGuard = new Outbound(new AppConfig(parseEnvironment({})), new FixedResolver(answers)).mcp.guard;
    await expect(mcpGuard.check('https://db.internal/mcp')).rejects.toThrow(/^resolves to a private address/);
    await expect(mcpGuard.check('https://db.internal/mcp')).rejects.not.toThrow(/10\.0\.3\.4/);
    await expect(guard({}, answers).check('https://db.internal/hook')).rejects.toThrow(/resolves to 10\.0\.3\.4, a private address/);
  });
});
