import { Injectable } from '@nestjs/common';
import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import { RE2JS } from 're2js';
import type { NormalizedRequest } from '../common/response-types';
import { AppConfig } from '../config/app-config';

/**
 * `pattern` and `patternProperties` run on RE2 (linear time), so no tenant's regex can hold the
 * event loop. RE2 always matches by code point, which is what ajv's `u` flag asks for.
 * Backreferences and lookaround do not exist there: compiling such a pattern throws.
 */
const re2: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
    // ajv shares one scope value per `toString()` within a schema: it must tell patterns apart.
    return { test: (s: string) => compiled.test(s), toString: () => `/${pattern}/${flags}` };
  },
  { code: 're2js' },
);

type AjvClass = typeof Ajv | typeof Ajv2019 | typeof Ajv2020;

/** The dialects clients send (`$schema`, without a trailing `#`); none means draft-07. */
const DIALECTS: Record<string, { Ajv: AjvClass; meta: string }> = {
  'http://json-schema.org/draft-07/schema': { Ajv, meta: 'http://json-schema.org/draft-07/schema' },
  'https://json-schema.org/draft-07/schema': { Ajv, meta: 'http://json-schema.org/draft-07/schema' },
  'https://json-schema.org/draft/2019-09/schema': { Ajv: Ajv2019, meta: 'https://json-schema.org/draft/2019-09/schema' },
  'https://json-schema.org/draft/2020-12/schema': { Ajv: Ajv2020, meta: 'https://json-schema.org/draft/2020-12/schema' },
};
const DEFAULT_DIALECT = 'http://json-schema.org/draft-07/schema';

const OPTIONS: Options = { allErrors: false, strict: false, code: { regExp: re2 } };

/** The format a response's final text must follow: only strict `json_schema` formats are checked. */
export function strictOutputFormat(request: NormalizedRequest): { name: string; schema: Record<string, unknown> } | undefined {
  const format = request.text?.format;
  return format?.type === 'json_schema' && format.strict ? { name: format.name, schema: format.schema ?? {} } : undefined;
}

/** Nesting depth of a JSON value, without recursion (the value is the client's). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

const firstError = (errors: ErrorObject[] | null | undefined): string => {
  const first = errors?.[0];
  return first ? `${first.instancePath || '(root)'} ${first.message ?? 'is invalid'}` : 'it does not match';
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A schema that cannot be used, with the reason (for a 400 at create time, or a failed response). */
export class UnusableSchemaError extends Error {}

/**
 * JSON Schema validation of structured outputs. Each schema is compiled in an Ajv instance of its
 * own, so no `$id` one tenant registers is visible to another and ajv's internal caches die with
 * the entry; compiled validators are kept in an LRU bounded by count and by schema bytes.
 */
@Injectable()
export class SchemaValidator {
  /** Per dialect, one instance that only checks schemas against the meta-schema (compiled once). */
  private readonly metaValidators = new Map<string, ValidateFunction>();
  private readonly compiled = new Map<string, { validate: ValidateFunction; bytes: number }>();
  private cachedBytes = 0;

  constructor(private readonly config: AppConfig) {}

  /** Throws UnusableSchemaError saying why the schema cannot be used; compiles (and caches) it otherwise. */
  check(schema: Record<string, unknown>): void {
    this.validatorFor(schema);
  }

  /** A readable description of the first violation, or null when `value` follows `schema`. Never throws. */
  violation(schema: Record<string, unknown> | undefined, value: unknown): string | null {
    if (!schema) return null;
    let validate: ValidateFunction;
    try {
      validate = this.validatorFor(schema);
    } catch (error) {
      return `the schema cannot be used (${messageOf(error)})`;
    }
    try {
      return validate(value) ? null : firstError(validate.errors);
    } catch (error) {
      // A `$ref` cycle that consumes no data overflows the stack: the schema's fault, not ours.
      return `the schema cannot be evaluated (${messageOf(error)})`;
    }
  }

  private validatorFor(schema: Record<string, unknown>): ValidateFunction {
    const key = JSON.stringify(schema);
    const hit = this.compiled.get(key);
    if (hit) {
      this.compiled.delete(key); // re-insert: most recently used last
      this.compiled.set(key, hit);
      return hit.validate;
    }
    const bytes = Buffer.byteLength(key);
    const validate = this.compile(schema, bytes);
    this.remember(key, bytes, validate);
    return validate;
  }

  private compile(schema: Record<string, unknown>, bytes: number): ValidateFunction {
    if (bytes > this.config.maxSchemaBytes) throw new UnusableSchemaError(`it is ${bytes} bytes long; at most ${this.config.maxSchemaBytes} are accepted`);
    const depth = depthOf(schema);
    if (depth > this.config.maxSchemaDepth)
      throw new UnusableSchemaError(`it is nested ${depth} levels deep; at most ${this.config.maxSchemaDepth} are accepted`);
    const declared = schema.$schema ?? DEFAULT_DIALECT;
    const dialect = typeof declared === 'string' ? DIALECTS[declared.replace(/#$/, '')] : undefined;
    if (!dialect) {
      throw new UnusableSchemaError(
        `'$schema' ${JSON.stringify(declared)} is not supported; use draft-07, 2019-09 or 2020-12 (${Object.keys(DIALECTS).join(', ')})`,
      );
    }
    const meta = this.metaValidator(dialect.Ajv, dialect.meta);
    if (!meta(schema)) throw new UnusableSchemaError(`it is not a valid JSON Schema: ${firstError(meta.errors)}`);
    let validate: ValidateFunction;
    try {
      // Meta-checked above: this instance neither compiles the meta-schema nor keeps it.
      validate = new dialect.Ajv({ ...OPTIONS, meta: false, validateSchema: false }).compile(schema);
    } catch (error) {
      if (error instanceof RangeError) throw new UnusableSchemaError(`it refers to itself without end (${error.message})`); // ajv inlines `$ref` cycles
      const reason =
        error instanceof Error && error.name.startsWith('RE2JS')
          ? `a pattern is not supported (${error.message}); patterns run on a linear-time engine without backreferences or lookaround`
          : messageOf(error);
      throw new UnusableSchemaError(reason);
    }
    // A self-reference that consumes nothing (`{"$ref":"#"}`) recurses on any value: refuse it now.
    for (const probe of [null, {}, [], '']) {
      try {
        validate(probe);
      } catch (error) {
        throw new UnusableSchemaError(`it refers to itself without end (${messageOf(error)})`);
      }
    }
    return validate;
  }

  private metaValidator(AjvClass: AjvClass, id: string): ValidateFunction {
    let meta = this.metaValidators.get(id);
    if (!meta) {
      meta = new AjvClass(OPTIONS).getSchema(id)!;
      this.metaValidators.set(id, meta);
    }
    return meta;
  }

  private remember(key: string, bytes: number, validate: ValidateFunction): void {
    const { schemaCacheEntries: maxEntries, schemaCacheBytes: maxBytes } = this.config;
    if (maxEntries === 0 || bytes > maxBytes) return;
    this.compiled.set(key, { validate, bytes });
    this.cachedBytes += bytes;
    for (const [oldest, entry] of this.compiled) {
      if (this.compiled.size <= maxEntries && this.cachedBytes <= maxBytes) break;
      this.compiled.delete(oldest);
      this.cachedBytes -= entry.bytes;
    }
  }
}
