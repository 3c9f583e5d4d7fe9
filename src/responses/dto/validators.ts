import type { ValidationOptions } from 'class-validator';
import { isPlainObject, validatorDecorator as decorator } from '../../common/dto/validators';

/** `conv_…` or `{id: 'conv_…'}`. */
export const IsConversationRef = (options?: ValidationOptions) =>
  decorator(
    'isConversationRef',
    'must be a conversation id or {"id": "conv_…"}',
    (v) => (typeof v === 'string' && v.length > 0) || (isPlainObject(v) && typeof v.id === 'string' && v.id.length > 0),
    options,
  );

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
