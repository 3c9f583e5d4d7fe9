/** OpenAI's cursor-paged list: `first_id`/`last_id` are the page's ends, `has_more` whether more follow. */
export interface ListObject<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** One page as the list object every `GET …` list of this API answers with. */
export function listObject<T extends { id?: string }>(data: T[], hasMore: boolean): ListObject<T> {
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: hasMore };
}
