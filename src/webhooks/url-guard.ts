import { Injectable } from '@nestjs/common';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import * as ipaddr from 'ipaddr.js';
import { AppConfig } from '../config/app-config';
import { EnvironmentError } from '../config/environment';

/** An endpoint URL this server will not call. The message says why (never with a secret). */
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

/**
 * Where webhooks may go (SSRF protection). `https` only unless WEBHOOK_ALLOW_HTTP; no address
 * that is not public unicast (private, loopback, link-local with the cloud metadata address,
 * unique-local, CGNAT, multicast, reserved…) unless WEBHOOK_ALLOWED_HOSTS names its hostname, the
 * address or a CIDR holding it. Checked at registration, and at delivery on the very address
 * the connection uses (`lookup` below), so a DNS answer that changes in between gains nothing.
 */
@Injectable()
export class UrlGuard {
  private readonly hosts = new Set<string>();
  private readonly ranges: Array<[Parsed, number]> = [];

  constructor(
    private readonly config: AppConfig,
    private readonly resolver: HostResolver,
  ) {
    for (const entry of config.webhookAllowedHosts) {
      if (entry.includes('/')) {
        try {
          this.ranges.push(ipaddr.parseCIDR(entry));
        } catch {
          throw new EnvironmentError(`Invalid configuration:\n  WEBHOOK_ALLOWED_HOSTS: '${entry}' is not a valid CIDR.`);
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
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && this.config.webhookAllowHttp)) {
      throw new UrlRefusedError(this.config.webhookAllowHttp ? 'must be an http or https URL' : 'must be an https URL');
    }
    if (parsed.username || parsed.password) throw new UrlRefusedError('must not contain credentials');
    if (!parsed.hostname) throw new UrlRefusedError('must name a host');
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
    throw new UrlRefusedError(`resolves to ${ip.toString()}, a ${range} address (not allowed unless WEBHOOK_ALLOWED_HOSTS names it)`);
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
