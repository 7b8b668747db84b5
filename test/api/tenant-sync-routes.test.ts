/**
 * Tenant sync over HTTP, without a worker: the catalogue's sync settings (sync key, OAEP
 * settings, the application key of at least 3072 bits), the events refused before anything is
 * written, and the operator routes when there is nothing to decide.
 */
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { upsertInstance } from '../../src/db/repositories/subscription/instances';
import { signWebhook } from '../../src/platform/security/standard-webhooks';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';

let h: ApiHarness;
beforeAll(async () => {
  h = await apiHarness();
});
afterAll(async () => {
  await h?.close();
});

const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'alice@example.com' });
const publicKey = (bits: number): string => generateKeyPairSync('rsa', { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey;
const merchant = { name: 'Kit merchant', productionUrl: 'http://127.0.0.1:4000/saasproduce', protocolVersion: 'v2', accessKey: 'kit-access-key-1' };
const product = { name: 'Kit product', chargingMode: 'PERIOD', retentionDays: 5 };

async function row(merchantId: string, productId: string) {
  const { rows } = await h.db.query<{ sync_key_enc: string | null; kit_oaep_hash: string; kit_cipher_encoding: string; app_public_key: string | null }>(
    `select m.sync_key_enc, m.kit_oaep_hash, m.kit_cipher_encoding, p.app_public_key from merchants m left join products p on p.product_id = $2 where m.merchant_id = $1`,
    [merchantId, productId],
  );
  return rows[0];
}

async function sendEvent(event: unknown): Promise<request.Response> {
  const body = JSON.stringify(event);
  return request(h.app)
    .post('/v1/marketplace/events')
    .set({ 'content-type': 'application/json', ...signWebhook(h.config.webhook.secret, `msg_${uniqueId('W')}`, body) })
    .send(body);
}

test('when a merchant registers a sync key and OAEP settings, then the key is stored encrypted, shown as configured, and kept when a later PUT leaves it out', async () => {
  const id = uniqueId('KM');
  const created = await request(h.app).put(`/v1/merchants/${id}`).set(operator()).send({ ...merchant, syncKey: 'kit-sync-key-1', kitEncryption: { oaepHash: 'sha1', encoding: 'hex' } });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ syncKeyConfigured: true, kitEncryption: { oaepHash: 'sha1', encoding: 'hex' } });
  expect(JSON.stringify(created.body)).not.toContain('kit-sync-key-1');
  const stored = await row(id, 'none');
  expect(stored?.sync_key_enc).not.toContain('kit-sync-key-1');
  expect(h.encryptor.decrypt(stored!.sync_key_enc!)).toBe('kit-sync-key-1');

  const again = await request(h.app).put(`/v1/merchants/${id}`).set(operator()).send(merchant);
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ syncKeyConfigured: true, kitEncryption: { oaepHash: 'sha1', encoding: 'hex' } });
  expect(h.encryptor.decrypt((await row(id, 'none'))!.sync_key_enc!)).toBe('kit-sync-key-1');
});

test('when the sync key equals the access key, then 400 naming syncKey, and nothing is stored', async () => {
  const id = uniqueId('KM');
  const res = await request(h.app).put(`/v1/merchants/${id}`).set(operator()).send({ ...merchant, syncKey: merchant.accessKey });
  expect(res.status).toBe(400);
  expect(res.body.error.details).toEqual([{ field: 'syncKey', reason: 'must differ from accessKey: each interface class has its own key (spec §1.1)' }]);
  expect(await row(id, 'none')).toBeUndefined();
});

test('when a product registers a 2048-bit application key, then 400 with the reason and the product is unchanged; a 3072-bit key is taken', async () => {
  const merchantId = uniqueId('KM');
  const productId = uniqueId('KP');
  await request(h.app).put(`/v1/merchants/${merchantId}`).set(operator()).send(merchant).expect(201);
  const refused = await request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator()).send({ ...product, appPublicKey: publicKey(2048) });
  expect(refused.status).toBe(400);
  expect(refused.body.error).toEqual({
    code: 'invalid_request',
    message: 'appPublicKey: RSA key has 2048 bits; at least 3072 are required (spec §7.2)',
    details: [{ field: 'appPublicKey', reason: 'RSA key has 2048 bits; at least 3072 are required (spec §7.2)' }],
  });
  expect((await row(merchantId, productId))?.app_public_key).toBeNull();

  const key = publicKey(3072);
  const taken = await request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator()).send({ ...product, appPublicKey: key });
  expect(taken.status).toBe(201);
  expect(taken.body).toMatchObject({ appPublicKeyConfigured: true });
  expect((await row(merchantId, productId))?.app_public_key).toBe(key);
});

test('when sync events name an instance whose merchant has no sync key or whose product has no application key, then 422 and nothing is written', async () => {
  const merchantId = uniqueId('KM');
  const productId = uniqueId('KP');
  const instanceId = uniqueId('KI');
  await request(h.app).put(`/v1/merchants/${merchantId}`).set(operator()).send(merchant).expect(201);
  await request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator()).send(product).expect(201);
  await upsertInstance(h.db, { instanceId, workflowId: `subscription:${instanceId}`, merchantId, orderId: 'O1', orderLineId: 'O1-1', productId, skuCode: 'basic', status: 'active' });
  const count = async () => Number((await h.db.query(`select count(*) from inbound_events where payload::text like $1`, [`%${instanceId}%`])).rows[0]!.count);

  const tenant = { type: 'tenant.added', data: { instanceId, tenantId: 't1', tenantCode: 'c', name: 'C', domainName: 'https://c.example.com' } };
  const noKey = await sendEvent(tenant);
  expect(noKey.status).toBe(422);
  expect(noKey.body.error).toMatchObject({ code: 'sync_not_configured', details: [{ field: 'data.instanceId' }] });

  await request(h.app).put(`/v1/merchants/${merchantId}`).set(operator()).send({ ...merchant, syncKey: 'kit-sync-key-2' }).expect(200);
  const noAppKey = await sendEvent({ type: 'application.added', data: { instanceId, tenantId: 't1', appId: 'a', clientId: 'c', clientSecret: 's' } });
  expect(noAppKey.status).toBe(422);
  expect(noAppKey.body.error).toMatchObject({ code: 'no_app_public_key', details: [{ field: 'data.clientSecret' }] });

  const tooLong = await sendEvent({ type: 'application.added', data: { instanceId, tenantId: 't1', appId: 'a', clientId: 'c', clientSecret: 'x'.repeat(319) } });
  expect(tooLong.status).toBe(400);
  expect(tooLong.body.error.details).toEqual([{ field: 'data.clientSecret', reason: 'must be at most 318 bytes in UTF-8 (RSA-OAEP, spec §7.2)' }]);

  const twice = await sendEvent({ type: 'users.added', data: { instanceId, tenantId: 't1', appId: 'a', users: [1, 2].map(() => ({ userName: 'same', name: 'S', orgCode: 'o', role: 'user', enable: true })) } });
  expect(twice.status).toBe(400);
  expect(twice.body.error.details).toEqual([{ field: 'data.users.1.userName', reason: 'repeats users.0.userName' }]);
  expect(await count()).toBe(0);

  // Nothing was ever synced for the tenant: the operator routes know no such sync.
  const view = await request(h.app).get(`/v1/instances/${instanceId}/tenants/t1`).set(operator());
  expect(view.status).toBe(404);
  expect(view.body.error.code).toBe('tenant_sync_not_found');
  const retry = await request(h.app).post(`/v1/instances/${instanceId}/tenants/t1/retry`).set(operator()).send({ reason: 'try' });
  expect(retry.status).toBe(404);
});
