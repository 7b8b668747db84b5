/**
 * Valid marketplace events of every type, pointing at the fixtures: order.paid for each
 * charging mode (also naming the wrong product, another merchant, an order line already
 * paid), and later events naming running, ended, shared and unknown subscriptions. The
 * fuzz mutates them field by field (json.ts).
 */
import fc from 'fast-check';
import { REFRESH_SCENES } from '../../../src/protocol/requests';
import { CHARGING_MODES, type Fixtures } from './fixtures';

/** Ids the schemas take: mostly plain, some in other scripts. */
export const validId: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/), weight: 8 },
  {
    arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }).filter((s) => s.trim().length > 0 && !s.includes('\u0000')),
    weight: 1,
  },
);

const two = (n: number): string => String(n).padStart(2, '0');

/** ISO 8601 times with an offset, mostly near today, some near the ends of the years the API takes. */
export const isoTime: fc.Arbitrary<string> = fc
  .record({
    // Valid times only: the API refuses a time outside the years 1970-9999 in UTC (test/api
    // covers that refusal), and an offset may move the first and the last of those years out.
    year: fc.oneof({ arbitrary: fc.integer({ min: 2020, max: 2040 }), weight: 8 }, { arbitrary: fc.integer({ min: 1971, max: 9998 }), weight: 1 }, { arbitrary: fc.constantFrom(1971, 9998), weight: 1 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
    fraction: fc.constantFrom('', '.5', '.123', '.123456789'),
    offset: fc.oneof(
      { arbitrary: fc.constant('Z'), weight: 4 },
      { arbitrary: fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([s, h, m]) => `${s}${two(h)}:${two(m)}`), weight: 2 },
    ),
  })
  .map((t) => `${String(t.year).padStart(4, '0')}-${two(t.month)}-${two(t.day)}T${two(t.hour)}:${two(t.minute)}:${two(t.second)}${t.fraction}${t.offset}`);

const amount = fc.oneof(
  fc.constantFrom('99.00', '0', '0.0001', '9999999999999999.9999', '1', '12.5'),
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.integer({ min: 0, max: 1_000_000 }).map(String),
);
const currency = fc.constantFrom('CNY', 'USD', 'EUR');
const email = fc.stringMatching(/^[a-z0-9]{1,10}@[a-z]{1,10}\.(com|cn)$/);

type Data = Record<string, unknown>;
export interface Event {
  type: string;
  data: Data;
}

function orderPaid(f: Fixtures): fc.Arbitrary<Event> {
  return fc
    .record({
      mode: fc.constantFrom(...CHARGING_MODES),
      placement: fc.oneof(
        { arbitrary: fc.constant('fixture' as const), weight: 10 },
        { arbitrary: fc.constantFrom('wrong-mode' as const, 'other-merchant-product' as const, 'other-merchant' as const, 'unknown-merchant' as const, 'line-paid' as const), weight: 2 },
      ),
      orderId: validId,
      line: fc.oneof(fc.integer({ min: 1, max: 3 }).map((n) => `-00000${n}`), validId.map((s) => `:${s}`)),
      orderType: fc.constantFrom('NEW', 'RENEWAL', 'UPGRADE', 'x'),
      skuCode: validId,
      periodType: fc.constantFrom('month', 'year', 'day', 'hour'),
      periodNumber: fc.integer({ min: 1, max: 1000 }),
      expireTime: isoTime,
      trialFlag: fc.option(fc.constantFrom<unknown>(true, false, '0', '1', 0, 1), { nil: undefined }),
      testFlag: fc.option(fc.constantFrom<unknown>('0', '1', 0, 1), { nil: undefined }),
      customer: fc.record(
        { customerId: validId, customerName: fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\u0000')), email },
        { requiredKeys: ['customerId'] },
      ),
      amount,
      currency,
      retentionDays: fc.option(fc.integer({ min: 1, max: 15 }), { nil: undefined }),
    })
    .map((g) => {
      let merchantId = f.merchantId;
      let productId = f.products[g.mode];
      let orderId = g.orderId.slice(0, 50);
      let orderLineId = `${orderId}${g.line}`.slice(0, 64);
      switch (g.placement) {
        case 'wrong-mode':
          productId = f.products[CHARGING_MODES[(CHARGING_MODES.indexOf(g.mode) + 1) % CHARGING_MODES.length]!];
          break;
        case 'other-merchant-product':
          productId = f.otherProductId;
          break;
        case 'other-merchant':
          merchantId = f.otherMerchantId;
          break;
        case 'unknown-merchant':
          merchantId = `${f.merchantId}-unknown`;
          break;
        case 'line-paid':
          ({ orderId, orderLineId } = f.running[0]!);
          break;
      }
      const periodic = g.mode === 'PERIOD';
      const data: Data = {
        orderId,
        orderLineId,
        orderType: g.orderType,
        merchantId,
        productId,
        skuCode: g.skuCode,
        chargingMode: g.mode,
        ...(periodic ? { periodType: g.periodType, periodNumber: g.periodNumber, expireTime: g.expireTime } : {}),
        ...(g.trialFlag !== undefined ? { trialFlag: g.trialFlag } : {}),
        customer: g.customer,
        amount: g.amount,
        currency: g.currency,
        ...(g.testFlag !== undefined ? { testFlag: g.testFlag } : {}),
        ...(g.retentionDays !== undefined ? { retentionDays: g.retentionDays } : {}),
      };
      return { type: 'order.paid', data };
    });
}

/**
 * How a later event names its subscription: its instance or its order line, running or
 * ended, the shared line (with or without the product), or something unknown. With
 * `running: false` no running subscription is named (a change check on one waits for an
 * answer that no worker gives: see the change-check property).
 */
export function target(f: Fixtures, options: { running: boolean }): fc.Arbitrary<Data> {
  const line = (s: { orderId: string; orderLineId: string }): Data => ({ subscription: { orderId: s.orderId, orderLineId: s.orderLineId } });
  const live = options.running ? f.running : [f.ended];
  const sharedLine = line(f.shared);
  const choices: fc.WeightedArbitrary<Data>[] = [
    { arbitrary: fc.constantFrom(...live).map((s) => ({ instanceId: s.instanceId })), weight: 3 },
    { arbitrary: fc.constantFrom(...live).map(line), weight: 3 },
    { arbitrary: fc.constantFrom<Data>({ instanceId: f.ended.instanceId }, line(f.ended)), weight: 2 },
    // The shared line without its product is ambiguous (422) whoever asks.
    { arbitrary: fc.constant(sharedLine), weight: 1 },
    { arbitrary: validId.map((id) => ({ instanceId: id })), weight: 1 },
    { arbitrary: fc.tuple(validId, validId).map(([orderId, orderLineId]) => ({ subscription: { orderId, orderLineId } })), weight: 1 },
    { arbitrary: fc.constantFrom(...live).map((s) => ({ instanceId: s.instanceId, ...line(s) })), weight: 1 },
  ];
  if (options.running) {
    const item = fc.constantFrom(...f.shared.productIds).map((productId) => ({ subscription: { orderId: f.shared.orderId, orderLineId: f.shared.orderLineId, productId } }));
    choices.push({ arbitrary: item, weight: 1 });
  }
  return fc.oneof(...choices);
}

function laterEvents(f: Fixtures): fc.Arbitrary<Event> {
  const t = target(f, { running: true });
  return fc.oneof(
    fc
      .record({ t, scene: fc.constantFrom(...REFRESH_SCENES), orderId: validId, orderLineId: validId, expireTime: isoTime, productId: fc.option(validId, { nil: undefined }) })
      .map(({ t: named, productId, ...rest }) => ({ type: 'order.renewed', data: { ...named, ...rest, ...(productId ? { productId } : {}) } })),
    fc.record({ t, orderId: validId, orderLineId: validId, skuCode: validId, amount, currency }).map(({ t: named, ...rest }) => ({ type: 'order.upgraded', data: { ...named, ...rest } })),
    fc
      .record({ t, orderId: validId, orderLineId: fc.option(validId, { nil: undefined }) })
      .map(({ t: named, orderLineId, ...rest }) => ({ type: 'order.unsubscribed', data: { ...named, ...rest, ...(orderLineId ? { orderLineId } : {}) } })),
    fc
      .record({ t, type: fc.constantFrom('instance.violation', 'instance.violation_lifted'), reason: fc.option(fc.string({ unit: 'grapheme', maxLength: 60 }).filter((s) => !s.includes('\u0000')), { nil: undefined }) })
      .map(({ t: named, type, reason }) => ({ type, data: { ...named, ...(reason !== undefined ? { reason } : {}) } })),
  );
}

/** An order.change_requested; `running` as in `target`. */
export function changeRequested(f: Fixtures, options: { running: boolean }): fc.Arbitrary<Event> {
  return fc
    .record({
      t: target(f, options),
      productInfo: fc.record(
        { productId: validId, skuCode: validId, productName: fc.string({ minLength: 1, maxLength: 64 }), linearValue: fc.integer({ min: -1000, max: 100_000 }) },
        { requiredKeys: ['productId', 'skuCode', 'productName'] },
      ),
    })
    .map(({ t: named, productInfo }) => ({ type: 'order.change_requested', data: { ...named, productInfo } }));
}

/**
 * The identity side's tenant sync events (README, Tenant sync): for a running instance (its
 * tenant's sync starts or is reached) or an unknown one (422), every entity and flag.
 */
function tenantSyncEvents(f: Fixtures): fc.Arbitrary<Event> {
  const base = fc.record({
    instanceId: fc.oneof({ arbitrary: fc.constantFrom(...f.running.map((r) => r.instanceId)), weight: 3 }, { arbitrary: validId, weight: 1 }),
    tenantId: fc.constantFrom('tenant-fuzz-1', 'tenant-fuzz-2'),
    testFlag: fc.option(fc.constantFrom<unknown>('0', '1', 0, 1), { nil: undefined }),
  });
  const change = fc.constantFrom('added', 'modified');
  const appId = fc.constantFrom('app-fuzz-1', 'app-fuzz-2');
  const user = fc.record(
    { name: fc.constantFrom('Li Lei', 'Han Meimei'), orgCode: fc.constant('org-1'), role: fc.constantFrom('user', 'admin'), enable: fc.constantFrom<unknown>(true, false, 'true', 'false'), email },
    { requiredKeys: ['name', 'orgCode', 'role', 'enable'] },
  );
  const users = fc.uniqueArray(validId, { minLength: 1, maxLength: 3 }).chain((names) => fc.tuple(...names.map((userName) => user.map((u) => ({ userName, ...u })))));
  const org = (orgCode: string) => ({ orgCode, orgName: `Org ${orgCode}`, parentCode: orgCode === 'org-1' ? '' : 'org-1' });
  const event = (type: string, data: fc.Arbitrary<Data>): fc.Arbitrary<Event> => fc.tuple(base, data).map(([b, d]) => ({ type, data: { ...stripUndefined(b), ...d } }));
  return fc.oneof(
    change.chain((c) => event(`tenant.${c}`, fc.record({ tenantCode: validId, name: fc.constantFrom('Buyer Co'), domainName: fc.constantFrom('https://buyer.example.com') }))),
    event('tenant.deleted', fc.constant({})),
    change.chain((c) => event(`application.${c}`, fc.record({ appId, clientId: validId, clientSecret: fc.string({ minLength: 1, maxLength: 40 }).filter((v) => !v.includes('\u0000')) }))),
    event('application.deleted', fc.record({ appId })),
    fc.constantFrom('added', 'modified', 'deleted').chain((c) => event(`users.${c}`, fc.record({ appId, users }))),
    event('organizations.synced', fc.constant({ orgs: [org('org-1'), org('org-2')] })),
    fc.constantFrom('added', 'modified', 'deleted').chain((c) => event(`organization.${c}`, fc.constantFrom('org-2', 'org-3').map(org))),
    // For a tenant no event started: a decision for a running sync waits for a worker, and none runs here.
    fc
      .constantFrom('retry', 'skip')
      .chain((d) => event(`tenant_sync.${d}_requested`, fc.record({ tenantId: fc.constant('tenant-fuzz-never-synced'), requestedBy: fc.constant('admin@buyer.example.com'), reason: fc.constant('the merchant fixed it') }))),
  );
}

/** A paid line of the fixtures (running or ended), or now and then an unknown one. */
function paidOrUnknownLine(f: Fixtures): fc.Arbitrary<{ orderId: string; orderLineId: string }> {
  const paid = [...f.running, f.ended].map((s) => ({ orderId: s.orderId, orderLineId: s.orderLineId }));
  return fc.oneof({ arbitrary: fc.constantFrom(...paid), weight: 4 }, { arbitrary: fc.record({ orderId: validId, orderLineId: validId }), weight: 1 });
}

/**
 * order.refund_requested (README, A refund) for a paid line of the fixtures (any charging mode,
 * running or ended) or an unknown one (404): the 5-day refund or a negotiated amount, with
 * the order system's facts. A line with a live refund refuses another refund order (409).
 */
function refundRequested(f: Fixtures): fc.Arbitrary<Event> {
  const line = paidOrUnknownLine(f);
  return fc
    .record(
      {
        line,
        refundOrderId: validId,
        requestedAt: isoTime,
        proposedAmount: fc.constantFrom('99.00', '0.0001', '12.5', '0', '100000'),
        invoiceOutstanding: fc.boolean(),
        goodsInTransit: fc.boolean(),
        earlierSelfServiceRefunds: fc.array(isoTime, { maxLength: 12 }),
      },
      { requiredKeys: ['line', 'refundOrderId', 'requestedAt'] },
    )
    .map(({ line: l, ...rest }) => ({ type: 'order.refund_requested', data: { ...l, ...stripUndefined(rest) } }));
}

/**
 * order.invoice_requested (README, A refund) for a paid line of the fixtures or an unknown one
 * (404): a line whose negotiated refund is pending tells its refund; any other is stored and
 * changes nothing.
 */
function invoiceRequested(f: Fixtures): fc.Arbitrary<Event> {
  const line = paidOrUnknownLine(f);
  return fc.record({ line, requestedAt: isoTime }).map(({ line: l, requestedAt }) => ({ type: 'order.invoice_requested', data: { ...l, requestedAt } }));
}

function stripUndefined(data: Data): Data {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
}

/** A valid event of any type (change checks never on a running subscription). */
export function validEvent(f: Fixtures): fc.Arbitrary<Event> {
  return fc.oneof(
    { arbitrary: orderPaid(f), weight: 4 },
    { arbitrary: laterEvents(f), weight: 4 },
    { arbitrary: changeRequested(f, { running: false }), weight: 1 },
    { arbitrary: tenantSyncEvents(f), weight: 2 },
    { arbitrary: refundRequested(f), weight: 1 },
    { arbitrary: invoiceRequested(f), weight: 1 },
  );
}
