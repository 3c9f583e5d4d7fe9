import type { ResponseReasoningItem } from 'openai/resources/responses/responses';
import { invalidRequest, unsupportedParameter } from '../common/openai-error';
import type { NormalizedRequest, StoredItem } from '../common/response-types';
import { SealedValueError, type SealContext, type SecretBox } from '../common/secrets';

/** The `include` value that asks for sealed reasoning. */
export const ENCRYPTED_REASONING = 'reasoning.encrypted_content';

/** A reasoning item's sealed text is bound to its tenant and its item id: it opens for nothing else. */
export const reasoningContext = (tenant: string, itemId: string): SealContext => ({ purpose: 'reasoning', tenant, id: itemId });

/** What is sealed: JSON, so that later versions can add fields next to the text. */
interface SealedReasoning {
  text: string;
}

/**
 * The reasoning text of an item (its `reasoning_text` parts); '' when it has none. Input items
 * arrive unchecked past `type` and `id`, so a `content` of another shape counts as none.
 */
export function reasoningText(item: object): string {
  const content = (item as { content?: unknown }).content;
  if (!Array.isArray(content)) return '';
  return (content as unknown[])
    .map((part) => (part && typeof part === 'object' && (part as { type?: unknown }).type === 'reasoning_text' ? (part as { text?: unknown }).text : ''))
    .filter((text): text is string => typeof text === 'string')
    .join('');
}

export const wantsEncryptedReasoning = (request: Pick<NormalizedRequest, 'include'>): boolean => request.include?.includes(ENCRYPTED_REASONING) ?? false;

/**
 * The server's sealer for client-held values, asked for only when a request seals or opens one
 * (`param` names what needs it): getting it may read a key file, which must not fail other requests.
 */
export type ClientSealBox = (param: string) => SecretBox | undefined;

/**
 * Refuses the include when this server has no key that every process shares (Postgres without
 * SECRETS_KEY): a value sealed by one process would not open on the next, which a client would
 * only learn turns later.
 */
export function checkEncryptedReasoningInclude(request: Pick<NormalizedRequest, 'include'>, box: ClientSealBox): void {
  if (wantsEncryptedReasoning(request) && !box('include')) {
    throw unsupportedParameter(
      'include',
      `include '${ENCRYPTED_REASONING}' needs SECRETS_KEY to be set on this server (the same on every process): it seals the reasoning it hands out.`,
    );
  }
}

/** Seals a finished reasoning item's text for `encrypted_content`. */
export function sealReasoning(box: SecretBox, tenant: string, item: ResponseReasoningItem): string {
  const payload: SealedReasoning = { text: reasoningText(item) };
  return box.seal(JSON.stringify(payload), reasoningContext(tenant, item.id));
}

/**
 * Opens the `encrypted_content` of the reasoning items in a request's input, in place: the text
 * becomes the item's `reasoning_text` content (what the upstream gets back, and what is stored
 * with `store: true`), and the sealed value is dropped. A value that does not open — tampered
 * with, another tenant's or another item's, or sealed under a key this server no longer has — is
 * a 400 naming the item.
 */
export function openReasoningInput(input: StoredItem[], box: ClientSealBox, tenant: string): void {
  input.forEach((item, i) => {
    const raw = item as { type?: string; id: string; encrypted_content?: unknown; content?: unknown };
    if (raw.type !== 'reasoning' || raw.encrypted_content == null) return;
    const param = `input[${i}].encrypted_content`;
    if (typeof raw.encrypted_content !== 'string') throw invalidRequest(`Invalid type for '${param}': expected a string.`, param, 'invalid_type');
    const text = openText(box(param), tenant, raw.id, raw.encrypted_content, param);
    raw.content = [{ type: 'reasoning_text', text }];
    delete raw.encrypted_content;
  });
}

function openText(box: SecretBox | undefined, tenant: string, id: string, sealed: string, param: string): string {
  const refuse = (why: string) =>
    invalidRequest(`The encrypted_content of reasoning item '${id}' cannot be opened by this server: ${why}.`, param, 'invalid_encrypted_content');
  if (!box) throw refuse('SECRETS_KEY is not set on this server');
  let plain: string;
  try {
    plain = box.open(sealed, reasoningContext(tenant, id), { legacy: false });
  } catch (error) {
    if (!(error instanceof SealedValueError)) throw error;
    throw refuse(`${error.message}; it must come back unchanged, with the id of the item it was issued with`);
  }
  const text = sealedText(plain);
  if (text === null) throw refuse('it holds no reasoning');
  return text;
}

/** The text of an opened value; null when it is not the JSON sealReasoning makes (never for a value of ours). */
function sealedText(plain: string): string | null {
  try {
    const payload = JSON.parse(plain) as Partial<SealedReasoning> | null;
    return typeof payload?.text === 'string' ? payload.text : null;
  } catch {
    return null;
  }
}
