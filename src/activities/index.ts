/** All activities, built once in the worker from their dependencies. */
import type { Queryable } from '../db/pool';
import type { Encryptor } from '../platform/security/encryption';
import type { MerchantClient } from '../clients/merchant';
import { createMerchantActivities } from './subscription/merchant-operations';
import { createMerchantDirectory } from '../clients/merchant-directory';
import { createNotificationActivities, type Mailer } from './notices/notifications';
import { createOrderSystemActivities } from './notices/order-system';
import { createPersistenceActivities } from './subscription/records';

export interface ActivityDeps {
  db: Queryable;
  encryptor: Encryptor;
  merchantClient: MerchantClient;
  orderSystem: { url: string | undefined; secret: string };
  mailer?: Mailer;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createMerchantActivities({
      merchants: createMerchantDirectory(deps.db, deps.encryptor),
      client: deps.merchantClient,
      db: deps.db,
      encryptor: deps.encryptor,
    }),
    ...createPersistenceActivities({ db: deps.db }),
    ...createNotificationActivities({ db: deps.db, mailer: deps.mailer }),
    ...createOrderSystemActivities({ db: deps.db, orderSystem: deps.orderSystem }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
