/**
 * zod schemas of the `data` of the marketplace's tenant sync events (spec §7.1–7.4). The
 * handlers store what the Kit calls need and hand the workflow a reference, so users lists
 * and secrets never enter a history.
 */
import { z } from 'zod';
import { MIN_RSA_KEY_BITS } from '../../protocol/kit-crypto';

const id64 = z.string().trim().min(1).max(64);
const text = (max: number) => z.string().trim().min(1).max(max);

/** `testFlag` 0/1 (an integer in the Kit bodies; "0"/"1" accepted too). Absent means production. */
const testFlag = z.union([z.enum(['0', '1']), z.literal(0), z.literal(1)]).transform((v) => (v === 1 || v === '1' ? 1 : 0) as 0 | 1);

const target = { instanceId: id64, tenantId: id64, testFlag: testFlag.optional() };

/** The authentication centre's unified domain, with `https://` (§7.1). */
const domainName = z
  .string()
  .trim()
  .max(255)
  .refine((v) => URL.canParse(v) && new URL(v).protocol === 'https:', 'must be an https:// URL');

export const tenantDataSchema = z.object({ ...target, tenantCode: id64, name: text(255), domainName }).strict();
/** A delete needs only the tenant; the fields the Kit body requires are filled from what we last synced. */
export const tenantDeletedDataSchema = z.object({ ...target, tenantCode: id64.optional(), name: text(255).optional(), domainName: domainName.optional() }).strict();

/**
 * The longest secret RSA-OAEP can carry with a 3072-bit key and SHA-256: 384 − 2·32 − 2 bytes
 * (a longer key or SHA-1 carries more).
 */
const MAX_SECRET_BYTES = MIN_RSA_KEY_BITS / 8 - 2 * 32 - 2;
const clientSecret = z
  .string()
  .min(1)
  .refine((v) => Buffer.byteLength(v, 'utf8') <= MAX_SECRET_BYTES, `must be at most ${MAX_SECRET_BYTES} bytes in UTF-8 (RSA-OAEP, spec §7.2)`);

export const applicationDataSchema = z.object({ ...target, appId: id64, clientId: text(256), clientSecret }).strict();
export const applicationDeletedDataSchema = z.object({ ...target, appId: id64, clientId: text(256).optional() }).strict();

/** `true`/`false` or the spec's strings; sent as the string. */
const enable = z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => String(v) as 'true' | 'false');

const user = z
  .object({
    userName: text(128),
    name: text(255),
    position: z.string().max(255).optional(),
    orgCode: id64,
    role: z.enum(['user', 'admin']),
    enable,
    employeeCode: z.string().max(64).optional(),
    mobile: z.string().max(32).optional(),
    email: z.email().max(255).optional(),
    extension: z
      .object({
        employeeType: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).optional(),
        workPlace: z.string().max(255).optional(),
        entryDate: z.string().regex(/^\d{4}-\d{2}-\d{1,2}$/, 'must be yyyy-MM-d').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A delete names the users; the other fields may come along and are passed on. */
const userToDelete = user.partial().required({ userName: true });

function uniqueUserNames(users: Array<{ userName: string }>, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  users.forEach((u, i) => {
    const first = seen.get(u.userName);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'userName'], message: `repeats users.${first}.userName` });
    else seen.set(u.userName, i);
  });
}

export const usersDataSchema = z.object({ ...target, appId: id64, users: z.array(user).min(1).superRefine(uniqueUserNames) }).strict();
export const usersDeletedDataSchema = z.object({ ...target, appId: id64, users: z.array(userToDelete).min(1).superRefine(uniqueUserNames) }).strict();

const org = z.object({ orgCode: id64, orgName: text(128), parentCode: z.string().trim().max(64) }).strict();

export const organizationsDataSchema = z
  .object({ ...target, orgs: z.array(org).min(1) })
  .strict()
  .superRefine((data, ctx) => {
    const codes = new Set<string>();
    data.orgs.forEach((o, i) => {
      if (codes.has(o.orgCode)) ctx.addIssue({ code: 'custom', path: ['orgs', i, 'orgCode'], message: 'repeats an earlier orgCode (unique in the tenant)' });
      codes.add(o.orgCode);
    });
  });

export const organizationDataSchema = z.object({ ...target, orgCode: id64, orgName: text(128), parentCode: z.string().trim().max(64).optional() }).strict();
export const organizationDeletedDataSchema = z.object({ ...target, orgCode: id64, orgName: text(128).optional(), parentCode: z.string().trim().max(64).optional() }).strict();

/** Retry or skip, asked by the buyer's enterprise admin through the order system. */
export const decisionDataSchema = z
  .object({ instanceId: id64, tenantId: id64, requestedBy: text(200), reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(1000), eventId: z.string().min(1).max(200).optional() })
  .strict();

/** An operator's retry or skip. */
export const decisionBodySchema = z
  .object({ reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(1000), eventId: z.string().min(1).max(200).optional() })
  .strict();
