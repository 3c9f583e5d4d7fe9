import 'reflect-metadata';
import { thrownOpenAIError } from '../../../test/support/openai-error';
import type { OpenAIError } from '../../common/openai-error';
import { createValidationPipe } from '../../common/validation';
import { CreateResponseDto } from './create-response.dto';

const pipe = createValidationPipe();
const validate = (fields: Record<string, unknown>) =>
  pipe.transform({ model: 'echo', input: 'hi', ...fields }, { type: 'body', metatype: CreateResponseDto }) as Promise<CreateResponseDto>;

async function rejected(fields: Record<string, unknown>): Promise<ReturnType<OpenAIError['toBody']>['error']> {
  const error = await validate(fields).then(
    () => undefined,
    (e: unknown) => e,
  );
  const openai = thrownOpenAIError(() => {
    throw error;
  });
  expect(openai.getStatus()).toBe(400);
  return openai.toBody().error;
}

describe('CreateResponseDto validation (the fields of openai 7.59 and Open Responses)', () => {
  it.each([
    ['presence_penalty', -2],
    ['presence_penalty', 2],
    ['frequency_penalty', 0.5],
    ['frequency_penalty', null],
  ])('accepts %s = %p', async (field, value) => {
    await expect(validate({ [field]: value })).resolves.toMatchObject({ [field]: value });
  });

  it.each([
    ['presence_penalty', 2.01],
    ['presence_penalty', -3],
    ['frequency_penalty', '1'],
    ['frequency_penalty', Number.NaN],
  ])('refuses %s = %p, naming it', async (field, value) => {
    expect(await rejected({ [field]: value })).toMatchObject({ param: field, code: 'invalid_value', type: 'invalid_request_error' });
  });

  it('accepts every documented value of the new option objects', async () => {
    const fields = {
      prompt_cache_retention: '24h',
      prompt_cache_options: { mode: 'explicit', ttl: '12h', comparison_response_id: 'resp_1', prewarm: false },
      generate: false,
      image: { context_compression: 'disabled' },
      access_programs: { cyber: 'daybreak_red' },
      background_options: { completion_window: '8h', continuation_id: 'job-7' },
    };
    await expect(validate({ ...fields, background: true })).resolves.toMatchObject(fields);
  });

  it.each([
    [{ prompt_cache_retention: '1h' }, 'prompt_cache_retention'],
    [{ prompt_cache_options: { ttl: '24h' } }, 'prompt_cache_options.ttl'],
    [{ prompt_cache_options: { mode: 'manual' } }, 'prompt_cache_options.mode'],
    [{ prompt_cache_options: { prewarm: 'yes' } }, 'prompt_cache_options.prewarm'],
    [{ prompt_cache_options: 'implicit' }, 'prompt_cache_options'],
    [{ generate: 'false' }, 'generate'],
    [{ image: { context_compression: 'on' } }, 'image.context_compression'],
    [{ image: [] }, 'image'],
    [{ access_programs: { cyber: 'daybreak_green' } }, 'access_programs.cyber'],
    [{ background_options: { completion_window: '1h' } }, 'background_options.completion_window'],
    [{ background_options: { continuation_id: 7 } }, 'background_options.continuation_id'],
    [{ background_options: true }, 'background_options'],
  ])('refuses %p with param %s', async (fields, param) => {
    expect(await rejected(fields)).toMatchObject({ param, type: 'invalid_request_error' });
  });
});
