import { Injectable } from '@nestjs/common';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import * as ipaddr from 'ipaddr.js';
import { EnvironmentError } from '../config/environment';

/** A URL this server will not call for a tenant. The message says why (never with a secret). */
export class UrlRefusedError extends Error {}

/** Name resolution (a port, so that tests can stand in for a DNS server that changes its answer). */
@Injectable()
export class HostResolver {
  resolve(hostname: string): Promise<LookupAddress[]> {
    return new Promise((resolve, reject) =>
      dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
    );
  }
}

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

/** `[::1]` → `::1`: URL hostnames keep IPv6 brackets. */
const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();

/** What one purpose (webhooks, MCP…) may reach, from the operator's settings. */
export interface OutboundPolicy {
  allowHttp: boolean;
  /** Hostnames, addresses and CIDRs allowed although not public. */
  allowedHosts: string[];
  /** The setting that holds `allowedHosts`, named in refusals. */
  allowedHostsVariable: string;
  /**
   * Whether a refusal may say which address a hostname resolved to. Off where the refusal reaches
   * a tenant at request time (MCP): it would tell them how internal names resolve.
   */
  revealResolved?: boolean;
}

/**
 * Where a tenant's URL may lead (SSRF protection), one purpose's policy. `https` only unless
 * the policy allows http; no address that is not public unicast (private, loopback, link-local
 * with the cloud metadata address, unique-local, CGNAT, multicast, reserved…) unless the
 * allowlist names its hostname, the address or a CIDR holding it. Checked on the URL's form and
 * address literal before connecting, and on the very address the connection uses (`lookup`
 * below), so a DNS answer that changes in between gains nothing.
 */
export class UrlGuard {
  private readonly hosts = new Set<string>();
  private readonly ranges: Array<[Parsed, number]> = [];

  constructor(
    private readonly policy: OutboundPolicy,
    private readonly resolver: HostResolver,
  ) {
    for (const entry of policy.allowedHosts) {
      if (entry.includes('/')) {
        try {
          this.ranges.push(ipaddr.parseCIDR(entry));
        } catch {
          throw new EnvironmentError(`Invalid configuration:\n  ${policy.allowedHostsVariable}: '${entry}' is not a valid CIDR.`);
        }
      } else {
        this.hosts.add(ipaddr.isValid(bare(entry)) ? ipaddr.process(bare(entry)).toString() : bare(entry));
      }
    }
  }

  /** The URL's form: scheme, no credentials. Throws UrlRefusedError. */
  parse(url: string): URL {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UrlRefusedError('must be an absolute https URL');
    }
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && this.policy.allowHttp)) {
      throw new UrlRefusedError(this.policy.allowHttp ? 'must be an http or https URL' : 'must be an https URL');
    }
    if (parsed.username || parsed.password) throw new UrlRefusedError('must not contain credentials');
    if (!parsed.hostname) throw new UrlRefusedError('must name a host');
    return parsed;
  }

  /**
   * Before connecting: the form, and an address literal in any spelling (`0x7f000001`,
   * `[::ffff:127.0.0.1]`…: the URL parser and ipaddr.js normalize them), which is connected
   * to without a lookup. Throws UrlRefusedError.
   */
  target(url: string): URL {
    const parsed = this.parse(url);
    const host = bare(parsed.hostname);
    if (ipaddr.isValid(host)) this.checkAddress(host, host);
    return parsed;
  }

  /** Registration: the form, then every address the hostname resolves to now. Throws UrlRefusedError. */
  async check(url: string): Promise<void> {
    const { hostname } = this.parse(url);
    const host = bare(hostname);
    if (ipaddr.isValid(host)) return this.checkAddress(host, host);
    let addresses: LookupAddress[];
    try {
      addresses = await this.resolver.resolve(host);
    } catch {
      throw new UrlRefusedError(`host '${host}' does not resolve`);
    }
    if (!addresses.length) throw new UrlRefusedError(`host '${host}' does not resolve`);
    for (const a of addresses) this.checkAddress(a.address, host);
  }

  /** Throws UrlRefusedError unless the address is public unicast or allow-listed (by itself, a CIDR, or the hostname). */
  checkAddress(address: string, hostname: string): void {
    if (this.hosts.has(bare(hostname))) return;
    let ip: Parsed;
    try {
      ip = ipaddr.process(address);
    } catch {
      throw new UrlRefusedError(`'${address}' is not an IP address`);
    }
    const range = ip.range();
    if (range === 'unicast') return;
    if (this.hosts.has(ip.toString())) return;
    if (this.ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return;
    const literal = ipaddr.isValid(bare(hostname));
    const what = literal || this.policy.revealResolved !== false ? `resolves to ${ip.toString()}, a ${range} address` : `resolves to a ${range} address`;
    throw new UrlRefusedError(`${what} (not allowed unless ${this.policy.allowedHostsVariable} names it)`);
  }

  /**
   * A `lookup` for `http.request`: resolves, then refuses unless every address is allowed — the
   * connection is made to one of exactly these addresses, never to a second answer.
   */
  lookup(): LookupFunction {
    return (hostname, options, callback) => {
      this.resolver.resolve(hostname).then(
        (addresses) => {
          try {
            if (!addresses.length) throw new UrlRefusedError(`host '${hostname}' does not resolve`);
            for (const a of addresses) this.checkAddress(a.address, hostname);
          } catch (error) {
            return callback(error as NodeJS.ErrnoException, '', 0);
          }
          const family = options.family === 4 || options.family === 6 ? options.family : undefined;
          const usable = family ? addresses.filter((a) => a.family === family) : addresses;
          if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable);
          callback(null, usable[0]?.address ?? '', usable[0]?.family ?? 4);
        },
        (error: NodeJS.ErrnoException) => callback(error, '', 0),
      );
    };
  }
}
