import { registerDecorator, ValidationOptions } from 'class-validator';

/** A class-validator decorator from a predicate; the message is prefixed with the property's name. */
export function validatorDecorator(name: string, message: string, test: (value: unknown) => boolean, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name,
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} ${message}`, ...options },
      validator: { validate: test },
    });
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** OpenAI's metadata: at most 16 string pairs, keys ≤ 64 characters, values ≤ 512. */
export const IsMetadata = (options?: ValidationOptions) =>
  validatorDecorator(
    'isMetadata',
    'must be an object of at most 16 string values, with keys up to 64 characters and values up to 512',
    (v) =>
      isPlainObject(v) && Object.keys(v).length <= 16 && Object.entries(v).every(([k, val]) => k.length <= 64 && typeof val === 'string' && val.length <= 512),
    options,
  );

/** An object of string values (HTTP headers). */
export const IsMetadataLike = (options?: ValidationOptions) =>
  validatorDecorator(
    'isStringRecord',
    'must be an object of string values',
    (v) => isPlainObject(v) && Object.values(v).every((val) => typeof val === 'string'),
    options,
  );
