import { getMetadataStorage, IsDefined, IsInt, IsOptional, IsString, validate } from 'class-validator';
import { cacheValidationMetadata, checkJsonInput, MAX_JSON_DEPTH } from './validation';

describe('checkJsonInput', () => {
  const nest = (depth: number): unknown => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  };

  it('passes ordinary input, paired surrogates (emoji) included', () => {
    expect(checkJsonInput({ model: 'm', input: [{ role: 'user', content: 'hi 😀 ünïcode' }], metadata: { a: 'b' } }, null)).toBeNull();
    expect(checkJsonInput({ input: nest(MAX_JSON_DEPTH - 2) }, null)).toBeNull();
  });

  it('refuses nesting deeper than the limit, naming where, without recursing (100,000 levels)', () => {
    expect(checkJsonInput({ input: nest(MAX_JSON_DEPTH + 1) }, null)?.toBody().error).toMatchObject({
      param: expect.stringMatching(/^input(\[0\])+$/),
      code: 'invalid_value',
    });
    expect(checkJsonInput({ input: nest(100_000) }, null)?.getStatus()).toBe(400);
  });

  it('refuses text Postgres cannot store: NUL and unpaired surrogates, in values and keys', () => {
    expect(checkJsonInput({ input: 'a\u0000b' }, null)?.toBody().error.param).toBe('input');
    expect(checkJsonInput({ input: [{ content: [{ text: 'x\ud800' }] }] }, null)?.toBody().error.param).toBe('input[0].content[0].text');
    expect(checkJsonInput({ metadata: { 'k\udfff': 'v' } }, null)?.toBody().error.param).toBe('metadata');
    expect(checkJsonInput('resp_\u0000', 'id')?.toBody().error.param).toBe('id');
    expect(checkJsonInput({ metadata: { 'odd key': 'v\ud83d' } }, null)?.toBody().error.param).toBe('metadata["odd key"]');
  });
});

describe('cacheValidationMetadata', () => {
  class Base {
    @IsString()
    name!: unknown;
  }
  class Child extends Base {
    @IsOptional()
    @IsInt()
    count?: unknown;
  }
  const failing = async (target: object) => (await validate(target)).map((e) => e.property).sort();

  it('keeps each class its own and inherited rules, and learns rules added after it', async () => {
    cacheValidationMetadata();
    const storage = getMetadataStorage();
    const rules = () => storage.getTargetValidationMetadatas(Child, '', false, false);
    expect(rules()).toBe(rules()); // worked out once
    expect(await failing(Object.assign(new Child(), { name: 1, count: 'x' }))).toEqual(['count', 'name']);
    expect(await failing(Object.assign(new Child(), { name: 'a' }))).toEqual([]);
    // A rule added to a class whose rules are cached already (a decorator applied late).
    IsDefined()(Child.prototype, 'late');
    expect(await failing(Object.assign(new Child(), { name: 'a' }))).toEqual(['late']);
  });
});
