import { registerDecorator, ValidationOptions } from 'class-validator';

function decorator(name: string, message: string, test: (value: unknown) => boolean, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name,
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} ${message}`, ...options },
      validator: { validate: test },
    });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** OpenAI's metadata: at most 16 string pairs, keys ≤ 64 characters, values ≤ 512. */
export const IsMetadata = (options?: ValidationOptions) =>
  decorator(
    'isMetadata',
    'must be an object of at most 16 string values, with keys up to 64 characters and values up to 512',
    (v) =>
      isPlainObject(v) &&
      Object.keys(v).length <= 16 &&
      Object.entries(v).every(([k, val]) => k.length <= 64 && typeof val === 'string' && val.length <= 512),
    options,
  );

/** An object of string values (HTTP headers). */
export const IsMetadataLike = (options?: ValidationOptions) =>
  decorator('isStringRecord', 'must be an object of string values', (v) => isPlainObject(v) && Object.values(v).every((val) => typeof val === 'string'), options);

/** `conv_…` or `{id: 'conv_…'}`. */
export const IsConversationRef = (options?: ValidationOptions) =>
  decorator('isConversationRef', "must be a conversation id or {\"id\": \"conv_…\"}", (v) => (typeof v === 'string' && v.length > 0) || (isPlainObject(v) && typeof v.id === 'string' && v.id.length > 0), options);

export const IsStringOrArray = (options?: ValidationOptions) =>
  decorator('isStringOrArray', 'must be a string or an array of input items', (v) => typeof v === 'string' || Array.isArray(v), options);

/** The shapes of `tool_choice`; hosted-tool choices pass here and are refused as unsupported later. */
export const IsToolChoice = (options?: ValidationOptions) =>
  decorator(
    'isToolChoice',
    "must be 'none', 'auto', 'required' or an object with a 'type'",
    (v) => (typeof v === 'string' ? ['none', 'auto', 'required'].includes(v) : isPlainObject(v) && typeof v.type === 'string'),
    options,
  );
