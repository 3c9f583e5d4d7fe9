import { Injectable } from '@nestjs/common';
import * as http from 'node:http';
import * as https from 'node:https';
import { Outbound } from '../outbound/outbound.module';
import { UrlGuard, UrlRefusedError } from '../outbound/url-guard';

/** The most of a receiver's answer that is ever read; the rest is dropped with the connection. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** What the delivery log keeps of it. */
export const EXCERPT_CHARS = 256;

export interface SendResult {
  /** The receiver's HTTP status; null when there was none (refused, unreachable, timed out). */
  statusCode: number | null;
  error: string | null;
  /** The first characters of the answer, printable only. */
  excerpt: string | null;
  durationMs: number;
  /** The URL (or the address it resolved to) is not allowed. */
  refused: boolean;
}

const printable = (text: string) =>
  text
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, EXCERPT_CHARS) || null;

/**
 * One HTTP POST to a receiver: through the URL guard's `lookup` (the address connected to is the
 * one checked), no redirects followed, a time limit on the whole exchange, and at most 64 KiB of
 * the answer read.
 */
@Injectable()
export class WebhookSender {
  private readonly guard: UrlGuard;

  constructor(outbound: Outbound) {
    this.guard = outbound.webhooks;
  }

  send(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<SendResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let target: URL;
    try {
      target = this.guard.target(url);
    } catch (error) {
      const message = error instanceof UrlRefusedError ? `Refused: the URL ${error.message}.` : String(error);
      return Promise.resolve({ statusCode: null, error: message, excerpt: null, durationMs: elapsed(), refused: true });
    }
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: Omit<SendResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ ...result, durationMs: elapsed() });
      };
      const request = (target.protocol === 'https:' ? https : http).request(target, {
        method: 'POST',
        agent: false,
        lookup: this.guard.lookup(),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'responses-gateway-webhooks/1',
        },
      });
      const timer = setTimeout(() => {
        finish({ statusCode: null, error: `Timed out after ${timeoutMs} ms.`, excerpt: null, refused: false });
        request.destroy();
      }, timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => {
        const refused = error instanceof UrlRefusedError;
        finish({
          statusCode: null,
          error: refused ? `Refused: the URL ${error.message}.` : error.code ? `${error.code}: ${error.message}` : error.message,
          excerpt: null,
          refused,
        });
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          finish({ statusCode: response.statusCode ?? null, error: null, excerpt: printable(Buffer.concat(chunks).toString('utf8')), refused: false });
        response.on('data', (chunk: Buffer) => {
          if (size >= MAX_RESPONSE_BYTES) return;
          chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
          size += chunk.length;
          if (size >= MAX_RESPONSE_BYTES) {
            done();
            response.destroy();
          }
        });
        response.on('end', done);
        response.on('error', done);
        response.on('close', done);
      });
      request.end(body);
    });
  }
}
