/**
 * zod schemas of the V2 production-interface requests (marketplace → merchant) and
 * responses (merchant → marketplace), spec §2. Requests are parsed as a merchant reads them:
 * strict about what they need, lenient about testFlag (older pages send "0" or an integer);
 * requests.ts has the stricter types of what the marketplace sends. Responses are parsed
 * leniently (unknown fields ignored) because merchants add fields.
 */
import { z } from 'zod';
import { INSTANCE_STATUS_CHANGES, REFRESH_SCENES } from './requests';
import { isValidKooTime } from './time';

const id64 = z.string().min(1).max(64);
/** `testFlag`: `1` debug, `0` or absent production (spec §1.6); some V1 pages use an integer. */
const testFlag = z
  .union([z.string().max(2), z.number().int()])
  .transform((value) => String(value))
  .optional();

/** `yyyyMMddHHmmss`, or 17 digits with milliseconds as in the spec's example (§2.3: accept both). */
export const kooTimeSchema = z
  .string()
  .regex(/^\d{14}(\d{3})?$/, 'expected yyyyMMddHHmmss or yyyyMMddHHmmssSSS')
  .refine(isValidKooTime, 'not a real date and time');

export const newInstanceRequestSchema = z.object({
  activity: z.literal('newInstance'),
  orderId: id64,
  orderLineId: id64,
  businessId: id64,
  testFlag,
});

/**
 * The spec documents a 100-character limit for a list of up to 100 IDs, which cannot hold
 * 100 UUIDs (§2.2); the limit is treated as unreliable and only the count is enforced.
 */
export const queryInstanceRequestSchema = z.object({
  activity: z.literal('queryInstance'),
  instanceId: z
    .string()
    .min(1)
    .refine((value) => value.split(',').length <= 100, 'at most 100 comma-separated instance IDs'),
  testFlag,
});

export const refreshSceneSchema = z.enum(REFRESH_SCENES);

export const refreshInstanceRequestSchema = z.object({
  activity: z.literal('refreshInstance'),
  scene: refreshSceneSchema,
  orderId: id64,
  orderLineId: id64,
  instanceId: id64,
  productId: id64.optional(),
  expireTime: kooTimeSchema,
  testFlag,
});

export const updateInstanceStatusRequestSchema = z.object({
  activity: z.literal('updateInstanceStatus'),
  instanceId: id64,
  status: z.enum(INSTANCE_STATUS_CHANGES),
  testFlag,
});

export const releaseInstanceRequestSchema = z.object({
  activity: z.literal('releaseInstance'),
  instanceId: id64,
  orderId: id64.optional(),
  orderLineId: id64.optional(),
  testFlag,
});

export const upgradeInstanceRequestSchema = z.object({
  activity: z.literal('upgradeInstance'),
  instanceId: id64,
  orderId: id64,
  orderLineId: id64,
  testFlag,
});

export const changeInstanceCheckRequestSchema = z.object({
  activity: z.literal('changeInstanceCheck'),
  instanceId: id64,
  productInfo: z.object({
    productId: id64,
    skuCode: id64,
    linearValue: z.number().int().optional(),
    productName: z.string().min(1).max(64),
  }),
  testFlag,
});

export const merchantRequestSchema = z.discriminatedUnion('activity', [
  newInstanceRequestSchema,
  queryInstanceRequestSchema,
  refreshInstanceRequestSchema,
  updateInstanceStatusRequestSchema,
  releaseInstanceRequestSchema,
  upgradeInstanceRequestSchema,
  changeInstanceCheckRequestSchema,
]);

export type NewInstanceRequest = z.infer<typeof newInstanceRequestSchema>;
export type QueryInstanceRequest = z.infer<typeof queryInstanceRequestSchema>;
export type RefreshInstanceRequest = z.infer<typeof refreshInstanceRequestSchema>;
export type UpdateInstanceStatusRequest = z.infer<typeof updateInstanceStatusRequestSchema>;
export type ReleaseInstanceRequest = z.infer<typeof releaseInstanceRequestSchema>;
export type UpgradeInstanceRequest = z.infer<typeof upgradeInstanceRequestSchema>;
export type ChangeInstanceCheckRequest = z.infer<typeof changeInstanceCheckRequestSchema>;
export type MerchantRequest = z.infer<typeof merchantRequestSchema>;
export type MerchantActivity = MerchantRequest['activity'];

const resultCode = z.string().regex(/^\d{6}$/, 'resultCode must be 6 digits');

export const baseResponseSchema = z.object({
  resultCode,
  resultMsg: z.string().optional(),
});

export const newInstanceResponseSchema = baseResponseSchema.extend({
  // Mandatory on success; a failing merchant often leaves it out.
  instanceId: z.string().min(1).max(64).optional(),
});

export const appInfoSchema = z.object({
  frontEndUrl: z.string().min(1).max(512),
  adminUrl: z.string().max(512).optional(),
  userName: z.string().max(128).optional(),
  password: z.string().max(128).optional(),
  memo: z.string().optional(),
});

export const usageInfoSchema = z.looseObject({
  relatedInstanceId: z.string().min(1),
  // Double(12,4) on the wire, sometimes as a string: a decimal either way, never NaN.
  usageValue: z.union([z.number().finite(), z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal number')]).transform((value) => Number(value)),
});

/**
 * Some pages name the usage list `usageInfo`, others `usageInfos` (§2.2, unconfirmed): both
 * are accepted and folded into `usageInfo`.
 */
export const instanceInfoSchema = z
  .object({
    instanceId: z.string().min(1),
    appInfo: appInfoSchema.optional(),
    usageInfo: z.array(usageInfoSchema).optional(),
    usageInfos: z.array(usageInfoSchema).optional(),
  })
  .transform(({ usageInfos, usageInfo, ...rest }) => ({ ...rest, usageInfo: usageInfo ?? usageInfos }));

export const queryInstanceResponseSchema = baseResponseSchema.extend({
  info: z.array(instanceInfoSchema).optional(),
});

export type BaseResponse = z.infer<typeof baseResponseSchema>;
export type NewInstanceResponse = z.infer<typeof newInstanceResponseSchema>;
export type AppInfo = z.infer<typeof appInfoSchema>;
export type UsageInfo = z.infer<typeof usageInfoSchema>;
export type InstanceInfo = z.infer<typeof instanceInfoSchema>;
export type QueryInstanceResponse = z.infer<typeof queryInstanceResponseSchema>;
