import type { ResponseReasoningItem } from 'openai/resources/responses/responses';
import { OpenAIError } from '../common/openai-error';
import type { StoredItem } from '../common/response-types';
import { SecretBox } from '../common/secrets';
import { checkEncryptedReasoningInclude, ENCRYPTED_REASONING, openReasoningInput, reasoningText, sealReasoning } from './reasoning-seal';

const box = new SecretBox('a-test-secret-key-of-enough-length');
const item = (id: string, text: string): ResponseReasoningItem => ({ id, type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text }] });
/** A reasoning item as Codex sends it back: explicit `content: null`, the sealed value, maybe a summary. */
const replayed = (id: string, encrypted: unknown): StoredItem =>
  ({
    id,
    type: 'reasoning',
    summary: [{ type: 'summary_text', text: 'thinking about it' }],
    content: null,
    encrypted_content: encrypted,
  }) as unknown as StoredItem;

/** Changes the first character of the ciphertext (every bit of it counts; a last character may carry padding bits only). */
const tamper = (sealed: string): string => sealed.replace(/\.([^.])([^.]*)$/, (_m, c: string, rest: string) => `.${c === 'A' ? 'B' : 'A'}${rest}`);

function refusal(fn: () => void): OpenAIError {
  try {
    fn();
  } catch (error) {
    if (error instanceof OpenAIError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('reasoning sealing', () => {
  it('seals a reasoning item so that it opens again for the same tenant and item id, into its content', () => {
    const sealed = sealReasoning(box, 'acme', item('rs_1', 'I should read the file.'));
    expect(sealed).toMatch(/^v2\./);
    expect(sealed).not.toContain('read the file');
    const input = [replayed('rs_1', sealed)];
    openReasoningInput(input, () => box, 'acme');
    expect(input[0]).toEqual({
      id: 'rs_1',
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: 'thinking about it' }],
      content: [{ type: 'reasoning_text', text: 'I should read the file.' }],
    });
    expect(reasoningText(input[0] as ResponseReasoningItem)).toBe('I should read the file.');
  });

  it('opens values sealed under a previous key (SECRETS_KEY rotation)', () => {
    const sealed = sealReasoning(box, 'acme', item('rs_1', 'old'));
    const rotated = new SecretBox('the-next-secret-key-of-enough-length', ['a-test-secret-key-of-enough-length']);
    const input = [replayed('rs_1', sealed)];
    openReasoningInput(input, () => rotated, 'acme');
    expect(reasoningText(input[0] as ResponseReasoningItem)).toBe('old');
  });

  it.each([
    ['another tenant', () => [replayed('rs_1', sealReasoning(box, 'acme', item('rs_1', 't')))], 'globex', box],
    ['another item id', () => [replayed('rs_2', sealReasoning(box, 'acme', item('rs_1', 't')))], 'acme', box],
    ['a tampered value', () => [replayed('rs_1', tamper(sealReasoning(box, 'acme', item('rs_1', 't'))))], 'acme', box],
    [
      'a key this server does not have',
      () => [replayed('rs_1', sealReasoning(new SecretBox('some-other-key-of-enough-length'), 'acme', item('rs_1', 't')))],
      'acme',
      box,
    ],
    ["another server's value (OpenAI's)", () => [replayed('rs_1', 'gAAAAABo-not-ours')], 'acme', box],
    ['no key at all (Postgres without SECRETS_KEY)', () => [replayed('rs_1', sealReasoning(box, 'acme', item('rs_1', 't')))], 'acme', undefined],
  ] as const)('refuses %s with a 400 naming the item', (_what, input, tenant, opener) => {
    const items = [{ id: 'msg_1', type: 'message', role: 'user', content: 'q' } as StoredItem, ...input()];
    const error = refusal(() => openReasoningInput(items, () => opener, tenant));
    expect(error.getStatus()).toBe(400);
    expect(error.toBody().error).toMatchObject({ type: 'invalid_request_error', param: 'input[1].encrypted_content', code: 'invalid_encrypted_content' });
    expect(error.message).toContain("reasoning item 'rs_");
  });

  it('reads no reasoning text from a content of another shape (input items are not checked past their type)', () => {
    expect(reasoningText({ content: 'text' })).toBe('');
    expect(
      reasoningText({ content: [null, { type: 'summary_text', text: 's' }, { type: 'reasoning_text', text: 5 }, { type: 'reasoning_text', text: 'ok' }] }),
    ).toBe('ok');
  });

  it('refuses an encrypted_content that is not a string', () => {
    expect(refusal(() => openReasoningInput([replayed('rs_1', 42)], () => box, 'acme')).toBody().error).toMatchObject({
      param: 'input[0].encrypted_content',
      code: 'invalid_type',
    });
  });

  it('leaves reasoning items without encrypted_content (null or absent) as they are', () => {
    const input = [replayed('rs_1', null), { id: 'rs_2', type: 'reasoning', summary: [] } as StoredItem];
    const before = structuredClone(input);
    openReasoningInput(input, () => undefined, 'acme');
    expect(input).toEqual(before);
  });

  it('asks for the box only when a request seals or opens reasoning (getting it may read a key file)', () => {
    const unusable = () => {
      throw new Error('key file unusable');
    };
    expect(() => checkEncryptedReasoningInclude({ include: null }, unusable)).not.toThrow();
    expect(() => openReasoningInput([item('rs_1', 't') as unknown as StoredItem], unusable, 'acme')).not.toThrow();
    expect(() => openReasoningInput([replayed('rs_1', 'v2.x')], unusable, 'acme')).toThrow('key file unusable');
  });

  it('refuses the include only when the server has no shared key, naming SECRETS_KEY', () => {
    expect(() => checkEncryptedReasoningInclude({ include: [ENCRYPTED_REASONING] }, () => box)).not.toThrow();
    expect(() => checkEncryptedReasoningInclude({ include: null }, () => undefined)).not.toThrow();
    const error = refusal(() => checkEncryptedReasoningInclude({ include: [ENCRYPTED_REASONING] }, () => undefined));
    expect(error.toBody().error).toMatchObject({ param: 'include', code: 'unsupported_parameter' });
    expect(error.message).toContain('SECRETS_KEY');
  });
});
