/**
 * Registers our custom search attributes on a Temporal namespace, idempotently. The dev
 * server gets them on its command line; a real cluster, docker-compose's server and the
 * time-skipping test server get them here.
 */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../shared/search-attributes';

const UNIMPLEMENTED = 12;

export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const known = new Set<string>();
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    for (const name of Object.keys(existing.customAttributes ?? {})) known.add(name);
  } catch (error) {
    // The Java time-skipping test server implements add but not list: add them all.
    if ((error as { code?: number }).code !== UNIMPLEMENTED) throw error;
  }
  const missing = CUSTOM_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  const searchAttributes = Object.fromEntries(missing.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]));
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (error) {
    // Another process registered them between our list and add.
    if (!/already exists/i.test(error instanceof Error ? error.message : String(error))) throw error;
  }
  return missing.map((key) => key.name);
}
