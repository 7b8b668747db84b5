/**
 * The `default` namespace and the project's search attributes on a fresh server (the dev
 * server gets both on its command line). The frontend learns of a new namespace and of new
 * search attributes only when it next refreshes its namespace cache (about every 10 s), so
 * we wait until a visibility query on our own attributes succeeds: only then can the API
 * and the worker start workflows that set them.
 */
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../../src/platform/temporal/search-attributes';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';

const ALREADY_EXISTS = 6;
const NAMESPACE = 'default';

export async function prepareNamespace(address: string, log: (message: string) => void, timeoutMs = 90_000): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      // One day, as the dev server keeps closed workflows.
      await connection.workflowService.registerNamespace({ namespace: NAMESPACE, workflowExecutionRetentionPeriod: msToTs('1 day') });
      log(`namespace ${NAMESPACE} registered`);
    } catch (error) {
      if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
      log(`namespace ${NAMESPACE} exists`);
    }
    const query = CUSTOM_SEARCH_ATTRIBUTES.map((key) => `${key.name} = 'probe'`).join(' AND ');
    const deadline = Date.now() + timeoutMs;
    let added = false;
    for (;;) {
      try {
        // Search attributes can be added only once the namespace is known to the frontend.
        if (!added) {
          const names = await ensureSearchAttributes(connection, NAMESPACE);
          added = true;
          log(names.length ? `search attributes added: ${names.join(', ')}` : 'search attributes present');
        }
        await connection.workflowService.listWorkflowExecutions({ namespace: NAMESPACE, query, pageSize: 1 });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`namespace ${NAMESPACE} not usable after ${timeoutMs} ms: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  } finally {
    await connection.close();
  }
}
