// Keys come from requests: `constructor` or `toString` are valid engine ids and action kinds, so a
// plain `record[key]` would find Object.prototype's members.
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
