/**
 * zod schemas of the Kit request bodies (spec §7.1–7.4), read leniently as a merchant reads
 * them: unknown fields are ignored, `testFlag` and `flag` may come as numbers or strings,
 * and `userList` as a serialised JSON array or as the array itself (§7.3 shows both).
 */
import { z } from 'zod';

const id = z.string().max(64);
const flag = z.union([z.literal(0), z.literal(1), z.literal(2), z.enum(['0', '1', '2'])]).transform((v) => Number(v) as 0 | 1 | 2);
const testFlag = z.union([z.literal(0), z.literal(1), z.enum(['0', '1'])]).transform((v) => Number(v) as 0 | 1);
const utc8Time = z.string().regex(/^\d{17}$/, 'must be yyyyMMddHHmmssSSS');
const base = { instanceId: id, testFlag, timeStamp: utc8Time };

export const tenantSyncRequestSchema = z.object({ ...base, orderId: id, tenantId: id.min(1), tenantCode: id, name: z.string().max(255), domainName: z.string().max(255), flag });
export const applicationSyncRequestSchema = z.object({ ...base, appId: id.min(1), tenantId: id.min(1), clientId: z.string(), clientSecret: z.string(), flag });

export const kitUserSchema = z.object({
  userName: z.string().min(1).max(128),
  name: z.string().optional(),
  position: z.string().optional(),
  orgCode: z.string().optional(),
  role: z.enum(['user', 'admin']).optional(),
  enable: z.enum(['true', 'false']).optional(),
  employeeCode: z.string().optional(),
  mobile: z.string().optional(),
  email: z.string().optional(),
  extension: z.record(z.string(), z.unknown()).optional(),
});

/** `userList` as a string holding a JSON array, or the array. */
const userList = z.union([
  z.array(kitUserSchema),
  z.string().transform((text, ctx) => {
    try {
      return z.array(kitUserSchema).parse(JSON.parse(text));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'userList is not a JSON array of users' });
      return z.NEVER;
    }
  }),
]);

export const authSyncRequestSchema = z.object({
  ...base,
  tenantId: id.min(1),
  appId: id.min(1),
  userList: userList.refine((users) => users.length <= 500, 'at most 500 users per call'),
  currentSyncTime: utc8Time,
  flag,
});

const org = z.object({ orgCode: id.min(1), orgName: z.string().max(128), parentCode: z.string().max(64) });
export const allOrgSyncRequestSchema = z.object({ ...base, tenantId: id.min(1), orgInfoList: z.array(org) });
export const orgSyncRequestSchema = z.object({ ...base, tenantId: id.min(1), orgCode: id.min(1), orgName: z.string().max(128), parentCode: z.string().max(64).optional(), flag });

export type KitUserRequest = z.infer<typeof kitUserSchema>;
