/**
 * Supervision documents in PostgreSQL (bytea): requirement attachments, acceptance
 * documents, delivery proofs and appeal evidence, with their type, size, SHA-256 and
 * uploader. `DocumentStore` is the small interface the API uses, so another store (an
 * S3-compatible one, say) can take its place.
 */
import type { Queryable } from '../../pool';

export type DocumentPurpose = 'requirement' | 'acceptance' | 'delivery-proof' | 'appeal';
export type UploaderType = 'customer' | 'merchant' | 'operator';

export interface DocumentMeta {
  documentId: string;
  orderId: string;
  orderLineId: string;
  purpose: DocumentPurpose;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  uploaderType: UploaderType;
  uploaderId: string;
  createdAt: string;
}

export interface DocumentStore {
  put(meta: Omit<DocumentMeta, 'createdAt'>, content: Buffer): Promise<DocumentMeta>;
  /** The document's metadata, without its bytes. */
  describe(documentId: string): Promise<DocumentMeta | undefined>;
  /** Metadata of several documents of one order line (missing ones left out). */
  describeMany(orderId: string, orderLineId: string, documentIds: string[]): Promise<DocumentMeta[]>;
  content(documentId: string): Promise<Buffer | undefined>;
  list(orderId: string, orderLineId: string): Promise<DocumentMeta[]>;
}

const META_COLUMNS = `document_id::text as "documentId", order_id as "orderId", order_line_id as "orderLineId", purpose, file_name as "fileName",
  content_type as "contentType", size_bytes as "sizeBytes", sha256, uploader_type as "uploaderType", uploader_id as "uploaderId",
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt"`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function postgresDocumentStore(q: Queryable): DocumentStore {
  return {
    async put(meta, content) {
      const { rows } = await q.query<DocumentMeta>(
        `insert into supervision_documents (document_id, order_id, order_line_id, purpose, file_name, content_type, size_bytes, sha256, uploader_type, uploader_id, content)
         values ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::int, $8::text, $9::text, $10::text, $11::bytea)
         returning ${META_COLUMNS}`,
        [meta.documentId, meta.orderId, meta.orderLineId, meta.purpose, meta.fileName, meta.contentType, meta.sizeBytes, meta.sha256, meta.uploaderType, meta.uploaderId, content],
      );
      return rows[0]!;
    },
    async describe(documentId) {
      if (!UUID.test(documentId)) return undefined;
      const { rows } = await q.query<DocumentMeta>(`select ${META_COLUMNS} from supervision_documents where document_id = $1::uuid`, [documentId]);
      return rows[0];
    },
    async describeMany(orderId, orderLineId, documentIds) {
      const ids = documentIds.filter((id) => UUID.test(id));
      if (ids.length === 0) return [];
      const { rows } = await q.query<DocumentMeta>(
        `select ${META_COLUMNS} from supervision_documents where order_id = $1::text and order_line_id = $2::text and document_id = any($3::uuid[])`,
        [orderId, orderLineId, ids],
      );
      return rows;
    },
    async content(documentId) {
      if (!UUID.test(documentId)) return undefined;
      const { rows } = await q.query<{ content: Buffer }>(`select content from supervision_documents where document_id = $1::uuid`, [documentId]);
      return rows[0]?.content;
    },
    async list(orderId, orderLineId) {
      const { rows } = await q.query<DocumentMeta>(
        `select ${META_COLUMNS} from supervision_documents where order_id = $1::text and order_line_id = $2::text order by created_at, document_id`,
        [orderId, orderLineId],
      );
      return rows;
    },
  };
}
