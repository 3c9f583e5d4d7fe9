import { OpenAIError } from '../../src/common/openai-error';

/** The OpenAIError `run` throws (fails the test if it throws nothing, or something else). */
export function thrownOpenAIError(run: () => unknown): OpenAIError {
  try {
    run();
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(OpenAIError);
    return error as OpenAIError;
  }
  throw new Error('expected an OpenAIError, but nothing was thrown');
}
