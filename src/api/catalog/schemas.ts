/** zod schemas of the operators' catalogue requests: merchants and their products. */
import { isIP } from 'node:net';
import { z } from 'zod';
import { rsaPublicKeyProblem } from '../../protocol/kit-crypto';

export const chargingModeSchema = z.enum(['PERIOD', 'ONE_TIME', 'ON_DEMAND', 'ON_DEMAND_PKG']);

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * A merchant's production URL. The spec requires HTTPS on a domain name, never an IP
 * literal (§1.1); development mode also allows plain http on loopback for local merchants.
 */
export function productionUrlSchema(mode: 'development' | 'production') {
  return z
    .string()
    .url()
    .max(512)
    .superRefine((value, ctx) => {
      // zod runs refinements after a failed check too; url() has already reported this one.
      if (!URL.canParse(value)) return;
      const url = new URL(value);
      const host = url.hostname;
      const loopback = LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
      if (url.protocol === 'https:') {
        if (mode === 'production' && (isIP(host.replace(/^\[|\]$/g, '')) !== 0 || loopback)) {
          ctx.addIssue({ code: 'custom', message: 'must use a domain name, not an IP address or loopback host (spec §1.1)' });
        }
        return;
      }
      if (url.protocol === 'http:' && mode === 'development' && loopback) return;
      ctx.addIssue({
        code: 'custom',
        message: mode === 'production' ? 'must be an https URL (spec §1.1)' : 'must be https, or http on a loopback host in development mode',
      });
    });
}

export function merchantBodySchema(mode: 'development' | 'production') {
  return z
    .object({
      name: z.string().trim().min(1).max(200),
      productionUrl: productionUrlSchema(mode),
      protocolVersion: z.literal('v2', { error: 'only "v2" is supported' }),
      accessKey: z.string().min(8, 'must be at least 8 characters').max(256),
      contactEmail: z.email().optional(),
      // Tenant sync (spec §7): the key bound to the joint-SaaS sync interface class, which must
      // differ from the access key (§1.1), and how the clientSecret is RSA-OAEP encrypted.
      syncKey: z.string().min(8, 'must be at least 8 characters').max(256).optional(),
      kitEncryption: z.object({ oaepHash: z.enum(['sha256', 'sha1']), encoding: z.enum(['base64', 'hex']) }).strict().optional(),
    })
    .strict()
    .superRefine((body, ctx) => {
      if (body.syncKey !== undefined && body.syncKey === body.accessKey) {
        ctx.addIssue({ code: 'custom', path: ['syncKey'], message: 'must differ from accessKey: each interface class has its own key (spec §1.1)' });
      }
    });
}

export const productBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    chargingMode: chargingModeSchema,
    // The freeze after expiry lasts up to 15 days, by product or customer level (§2.4).
    retentionDays: z.number().int().min(1).max(15),
    // The application's RSA public key (PEM, at least 3072 bits): the clientSecret of tenant sync is encrypted to it (§7.2).
    appPublicKey: z
      .string()
      .max(16_384)
      .superRefine((pem, ctx) => {
        const problem = rsaPublicKeyProblem(pem);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    // Service supervision (spec §9.1): chosen at listing, fixed once the product has orders;
    // a supervised product states its acceptance standard. Left out: stays as it is.
    supervised: z.boolean().optional(),
    supervisionVariant: z.enum(['service', 'licence']).optional(),
    acceptanceStandard: z.string().trim().min(1).max(10_000).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.supervised === true && body.acceptanceStandard === undefined) {
      ctx.addIssue({ code: 'custom', path: ['acceptanceStandard'], message: 'required when supervised is true: each supervised product states its acceptance standard (spec §9.1)' });
    }
  });
