/**
 * V2 request and response schemas (spec §2), result codes (§3) and KooGallery time strings.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import {
  baseResponseSchema,
  changeInstanceCheckRequestSchema,
  instanceInfoSchema,
  kooTimeSchema,
  merchantRequestSchema,
  newInstanceRequestSchema,
  newInstanceResponseSchema,
  queryInstanceRequestSchema,
  queryInstanceResponseSchema,
  refreshInstanceRequestSchema,
  releaseInstanceRequestSchema,
  updateInstanceStatusRequestSchema,
  upgradeInstanceRequestSchema,
  usageInfoSchema,
} from '../../src/protocol/schemas';
import { describeResultCode, isProcessing, isSuccess, ResultCode } from '../../src/protocol/result-codes';
import { fromKooTime, toKooTime } from '../../src/protocol/time';

/** The path of the first issue, joined with dots; fails the test if the value parses. */
function firstIssuePath(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
  return result.error.issues[0]!.path.join('.');
}

/** Every issue path, sorted. */
function issuePaths(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
  return result.error.issues.map((issue) => issue.path.join('.')).sort();
}

const validBodies = {
  newInstance: {
    activity: 'newInstance',
    orderId: 'CS2211181819B4LVS',
    orderLineId: 'CS2211181819B4LVS-000001',
    businessId: '87b94795-0603-4e24-8ae5-69420d60e3c8',
    testFlag: '1',
  },
  queryInstance: { activity: 'queryInstance', instanceId: 'inst-1,inst-2' },
  refreshInstance: {
    activity: 'refreshInstance',
    scene: 'RENEWAL',
    orderId: 'CS-RENEW-1',
    orderLineId: 'CS-RENEW-1-000001',
    instanceId: 'inst-1',
    expireTime: '20221124023618',
  },
  updateInstanceStatus: { activity: 'updateInstanceStatus', instanceId: 'inst-1', status: 'FREEZE' },
  releaseInstance: { activity: 'releaseInstance', instanceId: 'inst-1' },
  upgradeInstance: { activity: 'upgradeInstance', instanceId: 'inst-1', orderId: 'CS-UP-1', orderLineId: 'CS-UP-1-000001' },
  changeInstanceCheck: {
    activity: 'changeInstanceCheck',
    instanceId: 'inst-1',
    productInfo: { productId: 'prod-1', skuCode: 'sku-1', linearValue: 10, productName: 'Basic' },
  },
} as const;

describe('request schemas: valid bodies', () => {
  test('newInstance parses to the same fields', () => {
    expect(newInstanceRequestSchema.parse(validBodies.newInstance)).toEqual(validBodies.newInstance);
  });

  test('newInstance without testFlag parses and has no testFlag', () => {
    const { testFlag: _omit, ...body } = validBodies.newInstance;
    const parsed = newInstanceRequestSchema.parse(body);
    expect(parsed.testFlag).toBeUndefined();
    expect(parsed.orderId).toBe('CS2211181819B4LVS');
  });

  test('an integer testFlag (V1 style) is normalised to a string', () => {
    expect(newInstanceRequestSchema.parse({ ...validBodies.newInstance, testFlag: 1 }).testFlag).toBe('1');
  });

  test('queryInstance, refreshInstance, updateInstanceStatus, releaseInstance, upgradeInstance and changeInstanceCheck parse unchanged', () => {
    expect(queryInstanceRequestSchema.parse(validBodies.queryInstance)).toEqual(validBodies.queryInstance);
    expect(refreshInstanceRequestSchema.parse(validBodies.refreshInstance)).toEqual(validBodies.refreshInstance);
    expect(updateInstanceStatusRequestSchema.parse(validBodies.updateInstanceStatus)).toEqual(validBodies.updateInstanceStatus);
    expect(releaseInstanceRequestSchema.parse(validBodies.releaseInstance)).toEqual(validBodies.releaseInstance);
    expect(upgradeInstanceRequestSchema.parse(validBodies.upgradeInstance)).toEqual(validBodies.upgradeInstance);
    expect(changeInstanceCheckRequestSchema.parse(validBodies.changeInstanceCheck)).toEqual(validBodies.changeInstanceCheck);
  });

  test('releaseInstance with an unsubscription order parses with orderId and orderLineId', () => {
    const body = { ...validBodies.releaseInstance, orderId: 'CS-UNSUB', orderLineId: 'CS-UNSUB-000001' };
    expect(releaseInstanceRequestSchema.parse(body)).toEqual(body);
  });

  test('updateInstanceStatus accepts UNFREEZE', () => {
    expect(updateInstanceStatusRequestSchema.parse({ ...validBodies.updateInstanceStatus, status: 'UNFREEZE' }).status).toBe('UNFREEZE');
  });

  test.each(['TRIAL_TO_FORMAL', 'RENEWAL', 'UNSUBSCRIBE_RENEWAL_PERIOD', 'RENEWAL_CHANGE'])('refreshInstance accepts scene %s', (scene) => {
    expect(refreshInstanceRequestSchema.parse({ ...validBodies.refreshInstance, scene }).scene).toBe(scene);
  });

  test.each(Object.entries(validBodies))('the merchantRequestSchema union dispatches %s on activity', (activity, body) => {
    expect(merchantRequestSchema.parse(body).activity).toBe(activity);
  });

  test('the union rejects an unknown activity and names the activity field', () => {
    expect(firstIssuePath(merchantRequestSchema, { ...validBodies.newInstance, activity: 'deleteEverything' })).toBe('activity');
  });
});

describe('request schemas: invalid bodies name the field', () => {
  test.each([
    ['orderId missing', { orderId: undefined }, 'orderId'],
    ['orderLineId empty', { orderLineId: '' }, 'orderLineId'],
    ['businessId longer than 64', { businessId: 'b'.repeat(65) }, 'businessId'],
    ['orderId a number', { orderId: 123 }, 'orderId'],
    ['testFlag longer than 2', { testFlag: '123' }, 'testFlag'],
    ['activity of another scenario', { activity: 'queryInstance' }, 'activity'],
  ])('newInstance: %s → %s', (_case, change, field) => {
    expect(firstIssuePath(newInstanceRequestSchema, { ...validBodies.newInstance, ...change })).toBe(field);
  });

  test('newInstance accepts IDs of exactly 64 characters', () => {
    const id = 'x'.repeat(64);
    expect(newInstanceRequestSchema.safeParse({ ...validBodies.newInstance, orderId: id, orderLineId: id, businessId: id }).success).toBe(true);
  });

  test('newInstance lists every missing mandatory field', () => {
    expect(issuePaths(newInstanceRequestSchema, { activity: 'newInstance' })).toEqual(['businessId', 'orderId', 'orderLineId']);
  });

  test('queryInstance without instanceId names instanceId', () => {
    expect(firstIssuePath(queryInstanceRequestSchema, { activity: 'queryInstance' })).toBe('instanceId');
    expect(firstIssuePath(queryInstanceRequestSchema, { activity: 'queryInstance', instanceId: '' })).toBe('instanceId');
  });

  test.each([
    ['scene unknown', { scene: 'CANCEL' }, 'scene'],
    ['expireTime with dashes', { expireTime: '2022-11-24 02:36:18' }, 'expireTime'],
    ['instanceId missing', { instanceId: undefined }, 'instanceId'],
    ['productId empty', { productId: '' }, 'productId'],
  ])('refreshInstance: %s → %s', (_case, change, field) => {
    expect(firstIssuePath(refreshInstanceRequestSchema, { ...validBodies.refreshInstance, ...change })).toBe(field);
  });

  test('updateInstanceStatus with status NORMAL names status', () => {
    expect(firstIssuePath(updateInstanceStatusRequestSchema, { ...validBodies.updateInstanceStatus, status: 'NORMAL' })).toBe('status');
    expect(firstIssuePath(updateInstanceStatusRequestSchema, { ...validBodies.updateInstanceStatus, status: 'freeze' })).toBe('status');
  });

  test('releaseInstance with an empty orderId names orderId', () => {
    expect(firstIssuePath(releaseInstanceRequestSchema, { ...validBodies.releaseInstance, orderId: '' })).toBe('orderId');
  });

  test('upgradeInstance without orderLineId names orderLineId', () => {
    expect(firstIssuePath(upgradeInstanceRequestSchema, { ...validBodies.upgradeInstance, orderLineId: undefined })).toBe('orderLineId');
  });

  test('changeInstanceCheck names the nested productInfo field', () => {
    const body = validBodies.changeInstanceCheck;
    expect(firstIssuePath(changeInstanceCheckRequestSchema, { ...body, productInfo: { ...body.productInfo, skuCode: undefined } })).toBe('productInfo.skuCode');
    expect(firstIssuePath(changeInstanceCheckRequestSchema, { ...body, productInfo: { ...body.productInfo, linearValue: 1.5 } })).toBe('productInfo.linearValue');
    expect(firstIssuePath(changeInstanceCheckRequestSchema, { ...body, productInfo: undefined })).toBe('productInfo');
  });
});

describe('queryInstance instance ID lists', () => {
  const uuids = (count: number) => Array.from({ length: count }, () => randomUUID()).join(',');

  test('when 100 comma-separated UUIDs are sent (far beyond 100 characters), then they are accepted', () => {
    const instanceId = uuids(100);
    expect(instanceId.length).toBe(100 * 36 + 99);
    expect(queryInstanceRequestSchema.parse({ activity: 'queryInstance', instanceId }).instanceId).toBe(instanceId);
  });

  test('when 101 IDs are sent, then instanceId is rejected', () => {
    const result = queryInstanceRequestSchema.safeParse({ activity: 'queryInstance', instanceId: uuids(101) });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['instanceId']);
    expect(result.error?.issues[0]?.message).toBe('at most 100 comma-separated instance IDs');
  });

  test('a single ID is accepted', () => {
    expect(queryInstanceRequestSchema.safeParse({ activity: 'queryInstance', instanceId: 'one' }).success).toBe(true);
  });
});

describe('refreshInstance expireTime', () => {
  test('a 14-digit yyyyMMddHHmmss value is accepted', () => {
    expect(refreshInstanceRequestSchema.parse({ ...validBodies.refreshInstance, expireTime: '20221124023618' }).expireTime).toBe('20221124023618');
  });

  test('the spec example with 17 digits (milliseconds) is accepted', () => {
    expect(refreshInstanceRequestSchema.parse({ ...validBodies.refreshInstance, expireTime: '20221124023618256' }).expireTime).toBe('20221124023618256');
  });

  test.each(['2022112402361', '202211240236182', '2022112402361825', '202211240236182560', '2022112402361a'])(
    '%p (neither 14 nor 17 digits) is rejected on expireTime',
    (expireTime) => {
      expect(firstIssuePath(refreshInstanceRequestSchema, { ...validBodies.refreshInstance, expireTime })).toBe('expireTime');
    },
  );

  test('the kooTimeSchema message explains both formats', () => {
    const result = kooTimeSchema.safeParse('2022112402361');
    expect(result.error?.issues[0]?.message).toBe('expected yyyyMMddHHmmss or yyyyMMddHHmmssSSS');
  });
});

describe('response schemas', () => {
  test('resultCode must be exactly 6 digits', () => {
    expect(baseResponseSchema.parse({ resultCode: '000000', resultMsg: 'ok' })).toEqual({ resultCode: '000000', resultMsg: 'ok' });
    for (const resultCode of ['0000004', '00000', 'abcdef', '', ' 00000', '000000\n']) {
      const result = baseResponseSchema.safeParse({ resultCode });
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['resultCode']);
    }
    expect(baseResponseSchema.safeParse({ resultCode: 0 }).success).toBe(false);
    expect(baseResponseSchema.safeParse({ resultCode: 4 }).success).toBe(false);
  });

  test('the 6-digit message names the rule', () => {
    expect(baseResponseSchema.safeParse({ resultCode: '0000004' }).error?.issues[0]?.message).toBe('resultCode must be 6 digits');
  });

  test('unknown response fields are ignored, not rejected', () => {
    expect(baseResponseSchema.parse({ resultCode: '000005', extra: 1 })).toEqual({ resultCode: '000005' });
  });

  test('a newInstance response without instanceId parses (a failing merchant leaves it out)', () => {
    const parsed = newInstanceResponseSchema.parse({ resultCode: '000005', resultMsg: 'internal error' });
    expect(parsed).toEqual({ resultCode: '000005', resultMsg: 'internal error' });
    expect(parsed.instanceId).toBeUndefined();
  });

  test('a newInstance response with instanceId keeps it; one over 64 characters is rejected on instanceId', () => {
    expect(newInstanceResponseSchema.parse({ resultCode: '000004', instanceId: 'inst-1' }).instanceId).toBe('inst-1');
    expect(firstIssuePath(newInstanceResponseSchema, { resultCode: '000000', instanceId: 'i'.repeat(65) })).toBe('instanceId');
    expect(firstIssuePath(newInstanceResponseSchema, { resultCode: '000000', instanceId: '' })).toBe('instanceId');
  });

  test('queryInstance response: usageInfos is folded into usageInfo', () => {
    const parsed = queryInstanceResponseSchema.parse({
      resultCode: '000000',
      info: [{ instanceId: 'pkg-1', usageInfos: [{ relatedInstanceId: 'sms-1', usageValue: 12.5 }] }],
    });
    expect(parsed.info).toEqual([{ instanceId: 'pkg-1', usageInfo: [{ relatedInstanceId: 'sms-1', usageValue: 12.5 }] }]);
    expect(parsed.info?.[0]).not.toHaveProperty('usageInfos');
  });

  test('queryInstance response: usageInfo is accepted as it is', () => {
    const parsed = queryInstanceResponseSchema.parse({
      resultCode: '000000',
      info: [{ instanceId: 'pkg-1', usageInfo: [{ relatedInstanceId: 'sms-1', usageValue: 3 }, { relatedInstanceId: 'mms-1', usageValue: 0 }] }],
    });
    expect(parsed.info?.[0]?.usageInfo).toEqual([
      { relatedInstanceId: 'sms-1', usageValue: 3 },
      { relatedInstanceId: 'mms-1', usageValue: 0 },
    ]);
  });

  test('when both usageInfo and usageInfos are present, then usageInfo wins', () => {
    const parsed = instanceInfoSchema.parse({
      instanceId: 'i',
      usageInfo: [{ relatedInstanceId: 'a', usageValue: 1 }],
      usageInfos: [{ relatedInstanceId: 'b', usageValue: 2 }],
    });
    expect(parsed.usageInfo).toEqual([{ relatedInstanceId: 'a', usageValue: 1 }]);
  });

  test('a numeric-string usageValue becomes a number', () => {
    const parsed = usageInfoSchema.parse({ relatedInstanceId: 'sms-1', usageValue: '12.3456' });
    expect(parsed.usageValue).toBe(12.3456);
    expect(typeof parsed.usageValue).toBe('number');
  });

  test('extra usage fields (unit, remaining quota) are kept', () => {
    expect(usageInfoSchema.parse({ relatedInstanceId: 'x', usageValue: 1, unit: 'count' })).toEqual({ relatedInstanceId: 'x', usageValue: 1, unit: 'count' });
  });

  test('a usage entry without relatedInstanceId is rejected on that field', () => {
    expect(firstIssuePath(usageInfoSchema, { usageValue: 1 })).toBe('relatedInstanceId');
  });

  test('appInfo is parsed; an appInfo without frontEndUrl is rejected at info.0.appInfo.frontEndUrl', () => {
    const appInfo = { frontEndUrl: 'https://app.example.com', adminUrl: 'https://admin.example.com', userName: 'admin', password: 'p', memo: 'm' };
    const parsed = queryInstanceResponseSchema.parse({ resultCode: '000000', info: [{ instanceId: 'i', appInfo }] });
    expect(parsed.info?.[0]?.appInfo).toEqual(appInfo);
    expect(firstIssuePath(queryInstanceResponseSchema, { resultCode: '000000', info: [{ instanceId: 'i', appInfo: { adminUrl: 'x' } }] })).toBe(
      'info.0.appInfo.frontEndUrl',
    );
  });

  test('a queryInstance response without info parses (still processing)', () => {
    expect(queryInstanceResponseSchema.parse({ resultCode: '000004' })).toEqual({ resultCode: '000004' });
  });
});

describe('result codes', () => {
  test('the constants have the spec §3 values', () => {
    expect(ResultCode).toMatchObject({
      Success: '000000',
      AuthFailed: '000001',
      InvalidParameter: '000002',
      InstanceNotFound: '000003',
      Processing: '000004',
      InternalError: '000005',
      NoResource: '000100',
      SoldOut: '000106',
      EmailDomainExists: '000107',
    });
  });

  test.each([
    ['000000', 'success'],
    ['000001', 'authentication or signature check failed'],
    ['000003', 'instance ID does not exist'],
    ['000004', 'request being processed asynchronously'],
    ['000106', 'product resources sold out'],
    ['000107', 'SaaS e-mail domain already exists'],
  ])('describeResultCode(%p) is %p', (code, text) => {
    expect(describeResultCode(code)).toBe(text);
  });

  test('an undocumented code is named as such', () => {
    expect(describeResultCode('999999')).toBe('undocumented result code 999999');
    expect(describeResultCode('000200')).toBe('undocumented result code 000200');
    expect(describeResultCode('000900')).toBe('effective order has insufficient License quota');
  });

  test('isSuccess is true only for 000000', () => {
    expect(isSuccess('000000')).toBe(true);
    expect(isSuccess('000004')).toBe(false);
    expect(isSuccess('0')).toBe(false);
    expect(isSuccess('000001')).toBe(false);
  });

  test('isProcessing is true only for 000004 (not the misprint 0000004)', () => {
    expect(isProcessing('000004')).toBe(true);
    expect(isProcessing('0000004')).toBe(false);
    expect(isProcessing('000000')).toBe(false);
    expect(isProcessing('000005')).toBe(false);
  });
});

describe('KooGallery time strings', () => {
  test('toKooTime formats in UTC as yyyyMMddHHmmss', () => {
    expect(toKooTime(Date.UTC(2022, 10, 24, 2, 36, 18, 256))).toBe('20221124023618');
    expect(toKooTime(new Date('2024-02-29T23:59:59.999Z'))).toBe('20240229235959');
    expect(toKooTime('2023-01-05T03:04:05+08:00')).toBe('20230104190405');
  });

  test('toKooTime pads single-digit fields', () => {
    expect(toKooTime(Date.UTC(2009, 0, 2, 3, 4, 5))).toBe('20090102030405');
  });

  test('fromKooTime reads 14 digits as UTC', () => {
    expect(fromKooTime('20221124023618')).toBe(Date.UTC(2022, 10, 24, 2, 36, 18));
    expect(new Date(fromKooTime('20221124023618')).toISOString()).toBe('2022-11-24T02:36:18.000Z');
  });

  test('fromKooTime reads 17 digits with milliseconds', () => {
    expect(fromKooTime('20221124023618256')).toBe(Date.UTC(2022, 10, 24, 2, 36, 18, 256));
    expect(new Date(fromKooTime('20221124023618256')).toISOString()).toBe('2022-11-24T02:36:18.256Z');
  });

  test('a round trip through toKooTime and fromKooTime keeps the instant to the second', () => {
    const instant = Date.UTC(2031, 11, 31, 23, 59, 58, 999);
    expect(fromKooTime(toKooTime(instant))).toBe(Date.UTC(2031, 11, 31, 23, 59, 58));
    const kooTime = '19991231235959';
    expect(toKooTime(fromKooTime(kooTime))).toBe(kooTime);
  });

  test('toKooTime of an invalid instant throws RangeError', () => {
    expect(() => toKooTime('not a date')).toThrow(RangeError);
    expect(() => toKooTime(Number.NaN)).toThrow('not a valid instant: NaN');
  });

  test.each(['', '2022112402361', '202211240236182', '2022-11-24T02:36:18Z', '20221124023618 ', '2022112402361x'])(
    'fromKooTime(%p) throws RangeError',
    (value) => {
      expect(() => fromKooTime(value)).toThrow(RangeError);
    },
  );
});

describe('values that only look right', () => {
  test('a usageValue that is not a decimal is refused, not turned into NaN or 0', () => {
    expect(usageInfoSchema.safeParse({ relatedInstanceId: 'sms-1', usageValue: 'abc' }).success).toBe(false);
    expect(usageInfoSchema.safeParse({ relatedInstanceId: 'sms-1', usageValue: '' }).success).toBe(false);
    expect(usageInfoSchema.parse({ relatedInstanceId: 'sms-1', usageValue: '12.5000' }).usageValue).toBe(12.5);
  });

  test('impossible dates are refused instead of rolling over', () => {
    expect(kooTimeSchema.safeParse('20221301000000').success).toBe(false);
    expect(kooTimeSchema.safeParse('20240229235959').success).toBe(true);
    expect(() => fromKooTime('20230230250000')).toThrow(RangeError);
    expect(() => fromKooTime('20230229000000')).toThrow(RangeError);
  });
});
