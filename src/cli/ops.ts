/**
 * `npm run ops -- <command>`: operator tools over the API.
 *
 *   order <orderId>                      the order, its lines and their current step
 *   timeline <orderId>                   every merchant call made for the order
 *   instance <instanceId>                the instance and the step its subscription waits in
 *   restart <orderId> <reason…>          make the next merchant attempt happen now
 *   tenant <instanceId> <tenantId>       a tenant's sync: what the merchant holds, pending events, the failed call
 *   sync-retry <instanceId> <tenantId> <reason…>   send the tenant's failed Kit call again
 *   sync-skip <instanceId> <tenantId> <reason…>    go past the tenant's failed Kit call (recorded)
 *
 *   API_URL (default http://127.0.0.1:3000), OPERATOR_TOKEN (default: the development token),
 *   OPERATOR (who you are, recorded with restarts; default $USER)
 */
import { DEVELOPMENT_SECRETS } from '../platform/config';

const apiUrl = process.env.API_URL ?? 'http://127.0.0.1:3000';
const headers = {
  authorization: `Bearer ${process.env.OPERATOR_TOKEN ?? DEVELOPMENT_SECRETS.operatorToken}`,
  'x-operator': process.env.OPERATOR ?? process.env.USER ?? 'operator',
  'content-type': 'application/json',
};

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(new URL(path, apiUrl), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    const error = json.error as { code?: string; message?: string } | undefined;
    throw new Error(`${method} ${path} → ${response.status} ${error?.code ?? ''}: ${error?.message ?? ''}`);
  }
  return json;
}

function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cell = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]): string => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [command, id, ...rest] = argv;
  const path = (segment: string): string => `/v1/${segment}/${encodeURIComponent(id ?? '')}`;
  switch (command) {
    case 'order': {
      const order = await call('GET', path('orders'));
      console.log(`order ${String(order.orderId)}: ${String(order.status)} (instance ${String(order.instanceId ?? '-')})`);
      const lines = (order.lines as Array<Record<string, unknown>>).map((l) => {
        const step = l.step as { name?: string; since?: string; reason?: string } | undefined;
        return { ...l, step: step?.name, since: step?.since, why: step?.reason };
      });
      console.log(table(lines, ['orderLineId', 'status', 'instanceId', 'step', 'since', 'why']));
      return;
    }
    case 'timeline': {
      const order = await call('GET', path('orders'));
      console.log(table(order.attempts as Array<Record<string, unknown>>, ['time', 'scenario', 'activity', 'attempt', 'outcome', 'resultCode', 'latencyMs', 'error']));
      return;
    }
    case 'instance':
      console.log(JSON.stringify(await call('GET', path('instances')), null, 2));
      return;
    case 'restart': {
      if (!id || rest.length === 0) throw new Error('usage: restart <orderId> <reason…>');
      const result = await call('POST', `${path('orders')}/restart`, { reason: rest.join(' ') });
      console.log(`restart sent to ${(result.restarted as string[]).join(', ')} (operator action ${String(result.actionId)})`);
      return;
    }
    case 'tenant':
    case 'sync-retry':
    case 'sync-skip': {
      const [tenantId, ...reason] = rest;
      if (!id || !tenantId || (command !== 'tenant' && reason.length === 0)) throw new Error(`usage: ${command} <instanceId> <tenantId>${command === 'tenant' ? '' : ' <reason…>'}`);
      const tenantPath = `${path('instances')}/tenants/${encodeURIComponent(tenantId)}`;
      if (command === 'tenant') {
        console.log(JSON.stringify(await call('GET', tenantPath), null, 2));
        return;
      }
      const result = await call('POST', `${tenantPath}/${command === 'sync-retry' ? 'retry' : 'skip'}`, { reason: reason.join(' ') });
      const decision = result.decision as { action: string; eventId: string; call: number };
      console.log(`${decision.action} of call ${decision.call} of event ${decision.eventId} sent (operator action ${String(result.actionId)})`);
      return;
    }
    default:
      throw new Error('usage: npm run ops -- order|timeline|instance|restart <id> [reason…] | tenant|sync-retry|sync-skip <instanceId> <tenantId> [reason…]');
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
