import Ajv from 'ajv';
import { AppConfig } from '../config/app-config';
import { parseEnvironment } from '../config/environment';
import { SchemaValidator, UnusableSchemaError } from './schema-validator';

const validator = (env: Record<string, string> = {}) => new SchemaValidator(new AppConfig(parseEnvironment({ DATA_DIR: 'memory://', ...env })));

/** Why `check` refuses the schema, or null when it takes it. */
function refusal(v: SchemaValidator, schema: Record<string, unknown>): string | null {
  try {
    v.check(schema);
    return null;
  } catch (error) {
    if (!(error instanceof UnusableSchemaError)) throw error;
    return error.message;
  }
}

describe('SchemaValidator', () => {
  it('runs `pattern` in linear time: a catastrophic-backtracking regex answers at once', () => {
    const v = validator();
    const started = performance.now();
    // 40 characters: a backtracking engine would need about 2^40 steps (hours); a linear one microseconds.
    expect(v.violation({ type: 'string', pattern: '^(a+)+$' }, 'a'.repeat(40) + '!')).toBe('(root) must match pattern "^(a+)+$"');
    expect(v.violation({ type: 'object', patternProperties: { '^(a|a)+$': { type: 'number' } } }, { ['a'.repeat(40) + '!']: 'x' })).toBeNull();
    // Generous for a loaded machine: the point is linear against exponential, not speed.
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('keeps the patterns of one schema apart, and matches like JSON Schema (unanchored, by code point)', () => {
    const v = validator();
    const schema = {
      type: 'object',
      properties: { a: { type: 'string', pattern: '^a+$' }, b: { type: 'string', pattern: '\\d{2}/x' }, c: { type: 'string', pattern: '^\\p{L}.$' } },
    };
    expect(v.violation(schema, { a: 'aaa', b: 'n°12/x', c: 'é😀' })).toBeNull();
    expect(v.violation(schema, { a: 'aaa', b: 'aaa' })).toBe('/b must match pattern "\\d{2}/x"');
    expect(v.violation(schema, { a: 'aaa', c: 'é😀😀' })).toBe('/c must match pattern "^\\p{L}.$"');
  });

  it('refuses patterns RE2 cannot run (backreferences, lookaround), saying why', () => {
    const v = validator();
    for (const pattern of ['(a)\\1', '^(?=a)', 'a(?!b)']) {
      expect(refusal(v, { type: 'string', pattern })).toMatch(/a pattern is not supported .*linear-time engine without backreferences or lookaround/);
    }
  });

  it("shares no `$id` between schemas: one cannot `$ref` another's", () => {
    const v = validator();
    const secret = { $id: 'https://tenant-a.example/secret', type: 'string', enum: ['the-secret-rule'] };
    expect(v.violation(secret, 'the-secret-rule')).toBeNull();
    const probe = { $ref: 'https://tenant-a.example/secret' };
    expect(refusal(v, probe)).toMatch(/can't resolve reference https:\/\/tenant-a\.example\/secret/);
    expect(v.violation(probe, 'guess')).toMatch(/^the schema cannot be used/);
    expect(v.violation(probe, 'guess')).not.toContain('the-secret-rule');
    // The same `$id` twice is not "already exists" either: each schema has an instance of its own.
    expect(v.violation({ ...secret, enum: ['other'] }, 'other')).toBeNull();
  });

  it('refuses schemas that recurse without consuming data, and never throws from violation()', () => {
    const v = validator();
    for (const schema of [{ $ref: '#' }, { anyOf: [{ $ref: '#' }] }, { $defs: { a: { $ref: '#/$defs/b' }, b: { $ref: '#/$defs/a' } }, $ref: '#/$defs/a' }]) {
      expect(refusal(v, schema)).toMatch(/refers to itself without end/);
      expect(() => v.violation(schema, { x: 1 })).not.toThrow();
      expect(v.violation(schema, { x: 1 })).toMatch(/^the schema cannot be used/);
    }
    // A recursive schema that consumes data is fine.
    const tree = { type: 'object', properties: { children: { type: 'array', items: { $ref: '#' } } } };
    expect(v.violation(tree, { children: [{ children: [] }] })).toBeNull();
    expect(v.violation(tree, { children: [{ children: 1 }] })).toBe('/children/0/children must be array');
  });

  it('takes the draft-07, 2019-09 and 2020-12 dialects, each with its own keywords', () => {
    const v = validator();
    const tuple2020 = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'array',
      prefixItems: [{ type: 'string' }],
      items: false,
      $defs: { n: { type: 'number' } },
    };
    expect(v.violation(tuple2020, ['a'])).toBeNull();
    expect(v.violation(tuple2020, ['a', 1])).toMatch(/must NOT have more than 1 items/);
    const unevaluated2019 = {
      $schema: 'https://json-schema.org/draft/2019-09/schema',
      type: 'object',
      properties: { a: { type: 'number' } },
      unevaluatedProperties: false,
    };
    expect(v.violation(unevaluated2019, { a: 1 })).toBeNull();
    expect(v.violation(unevaluated2019, { a: 1, b: 2 })).toBe('(root) must NOT have unevaluated properties');
    const draft07 = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { n: { type: 'number' } },
      type: 'array',
      items: [{ $ref: '#/definitions/n' }],
    };
    expect(v.violation(draft07, [1, 'extra'])).toBeNull();
    expect(v.violation(draft07, ['x'])).toBe('/0 must be number');
    expect(refusal(v, { $schema: 'http://json-schema.org/draft-04/schema#' })).toMatch(
      /'\$schema' "http:\/\/json-schema.org\/draft-04\/schema#" is not supported/,
    );
  });

  it('refuses what is not a JSON Schema, and schemas over the size and depth bounds', () => {
    const v = validator({ MAX_SCHEMA_BYTES: '2048', MAX_SCHEMA_DEPTH: '8' });
    expect(refusal(v, { type: 'strnig' })).toMatch(/^it is not a valid JSON Schema: \/type must be equal to one of the allowed values/);
    expect(refusal(v, { type: 'string', minLength: 'x' })).toMatch(/^it is not a valid JSON Schema: \/minLength must be integer/);
    expect(refusal(v, { enum: ['x'.repeat(3000)] })).toMatch(/^it is \d+ bytes long; at most 2048 are accepted/);
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 5; i++) deep = { type: 'object', properties: { a: deep } };
    expect(refusal(v, deep)).toBe('it is nested 11 levels deep; at most 8 are accepted');
    expect(refusal(v, { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } } } } })).toBeNull();
  });

  it('keeps compiled schemas in an LRU bounded by count and by bytes', () => {
    const compile = jest.spyOn(Ajv.prototype, 'compile');
    try {
      const schema = (i: number, size = 0) => ({ type: 'object', required: [`f${i}`], description: 'x'.repeat(size) });
      const byCount = validator({ SCHEMA_CACHE_ENTRIES: '2' });
      for (const i of [1, 2, 1, 3, 1, 2]) byCount.violation(schema(i), {});
      expect(compile).toHaveBeenCalledTimes(4); // 1, 2, 3, then 2 again (evicted by 3; 1 was used since)
      compile.mockClear();
      const byBytes = validator({ SCHEMA_CACHE_BYTES: '3000' });
      for (const i of [1, 2, 1, 2]) byBytes.violation(schema(i, 2000), {});
      expect(compile).toHaveBeenCalledTimes(4); // two do not fit in 3000 bytes: each evicts the other
    } finally {
      compile.mockRestore();
    }
  });
});
