/** One forward-only schema change. Ids are never reused or edited once released. */
export interface Migration {
  id: number;
  name: string;
  up: string;
}
