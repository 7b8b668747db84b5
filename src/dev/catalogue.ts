/**
 * Registers a merchant and one monthly product through the operator API, the way an operator
 * would: the demo stack, the benchmarks and the chaos suite all start from this.
 */
export interface CatalogueEntry {
  merchantId: string;
  merchantName: string;
  productId: string;
  productName: string;
  productionUrl: string;
  accessKey: string;
  /** Tenant sync (spec §7): the merchant's sync key and the application's RSA public key (PEM). */
  syncKey?: string;
  appPublicKey?: string;
}

export async function registerCatalogue(apiUrl: string, operatorToken: string, entry: CatalogueEntry): Promise<void> {
  const put = async (route: string, body: unknown): Promise<void> => {
    const response = await fetch(new URL(route, apiUrl), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${operatorToken}`, 'x-operator': 'dev-tools' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`registering the catalogue failed: PUT ${route} → ${response.status} ${await response.text()}`);
  };
  await put(`/v1/merchants/${entry.merchantId}`, {
    name: entry.merchantName,
    productionUrl: entry.productionUrl,
    protocolVersion: 'v2',
    accessKey: entry.accessKey,
    ...(entry.syncKey ? { syncKey: entry.syncKey } : {}),
  });
  await put(`/v1/merchants/${entry.merchantId}/products/${entry.productId}`, {
    name: entry.productName,
    chargingMode: 'PERIOD',
    retentionDays: 15,
    ...(entry.appPublicKey ? { appPublicKey: entry.appPublicKey } : {}),
  });
}
