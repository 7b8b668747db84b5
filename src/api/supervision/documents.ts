/**
 * The rules of a supervision document, pure: what may be uploaded (type, size, checksum, who
 * for which purpose), checked before anything is stored. Oversize is 413 and an unknown type
 * 415, each naming the field; everything else wrong is a 400 naming the field.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { DocumentMeta, DocumentPurpose, UploaderType } from '../../db/repositories/supervision/documents';
import { AppError, invalidRequest } from '../errors';
import { parseRequestBody } from '../request-body';

/** Small files only: acceptance reports, screenshots, signed PDFs. Larger evidence belongs in an object store. */
export const DOCUMENT_MAX_BYTES = 5 * 1024 * 1024;

/** The upload body's limit: the largest document in base64, plus room for the other fields. */
export const UPLOAD_BODY_LIMIT_BYTES = Math.ceil((DOCUMENT_MAX_BYTES * 4) / 3) + 64 * 1024;

export const DOCUMENT_CONTENT_TYPES: readonly string[] = [
  'application/pdf',
  'image/png',
  'image/jpeg',
  'text/plain',
  'application/zip',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
];

/** Which party may upload for which purpose. Operators read documents; they do not upload them. */
export const PURPOSES_BY_UPLOADER: Readonly<Record<UploaderType, readonly DocumentPurpose[]>> = {
  customer: ['requirement', 'appeal'],
  merchant: ['acceptance', 'delivery-proof', 'appeal'],
  operator: [],
};

/** Standard padded base64; a plain character class (no repeated group), so megabytes do not exhaust the regex engine. */
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (value: string): boolean => value.length % 4 === 0 && BASE64_CHARS.test(value);

export const uploadBodySchema = z
  .object({
    purpose: z.enum(['requirement', 'acceptance', 'delivery-proof', 'appeal']),
    fileName: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .refine((name) => !/[/\\]/.test(name), 'must be a file name, without / or \\'),
    contentType: z.string().min(1).max(255),
    // Checked in checkUpload: its size first (413), then its alphabet.
    contentBase64: z.string().min(1),
    /** Optional: the uploader's own SHA-256 of the content (hex); a mismatch is refused. */
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
      .optional(),
  })
  .strict();

/** A checked upload: its metadata (with a new id) and its bytes. */
export function checkUpload(body: unknown, uploader: { type: UploaderType; id: string }, line: { orderId: string; orderLineId: string }): { meta: Omit<DocumentMeta, 'createdAt'>; content: Buffer } {
  const upload = parseRequestBody(uploadBodySchema, body);
  const contentType = upload.contentType.toLowerCase().split(';')[0]!.trim();
  if (!DOCUMENT_CONTENT_TYPES.includes(contentType)) {
    throw new AppError(415, 'unsupported_document_type', `contentType: ${upload.contentType} is not accepted`, [
      { field: 'contentType', reason: `must be one of ${DOCUMENT_CONTENT_TYPES.join(', ')}` },
    ]);
  }
  if (!PURPOSES_BY_UPLOADER[uploader.type].includes(upload.purpose)) {
    throw invalidRequest([{ field: 'purpose', reason: `the ${uploader.type} uploads ${PURPOSES_BY_UPLOADER[uploader.type].join(', ') || 'nothing'}` }]);
  }
  // The decoded size without decoding first: a huge body is refused before a buffer is made for it.
  const padding = upload.contentBase64.endsWith('==') ? 2 : upload.contentBase64.endsWith('=') ? 1 : 0;
  const sizeBytes = Math.floor((upload.contentBase64.length * 3) / 4) - padding;
  if (sizeBytes > DOCUMENT_MAX_BYTES) {
    throw new AppError(413, 'document_too_large', `contentBase64: the document has ${sizeBytes} bytes; at most ${DOCUMENT_MAX_BYTES} are accepted`, [
      { field: 'contentBase64', reason: `at most ${DOCUMENT_MAX_BYTES} bytes once decoded` },
    ]);
  }
  if (!isBase64(upload.contentBase64)) throw invalidRequest([{ field: 'contentBase64', reason: 'must be standard base64 (A–Z, a–z, 0–9, + and /, padded with =)' }]);
  const content = Buffer.from(upload.contentBase64, 'base64');
  if (content.length === 0) throw invalidRequest([{ field: 'contentBase64', reason: 'the document is empty' }]);
  const sha256 = createHash('sha256').update(content).digest('hex');
  if (upload.sha256 !== undefined && upload.sha256.toLowerCase() !== sha256) {
    throw invalidRequest([{ field: 'sha256', reason: `does not match the content (its SHA-256 is ${sha256})` }]);
  }
  return {
    meta: {
      documentId: randomUUID(),
      orderId: line.orderId,
      orderLineId: line.orderLineId,
      purpose: upload.purpose,
      fileName: upload.fileName,
      contentType,
      sizeBytes: content.length,
      sha256,
      uploaderType: uploader.type,
      uploaderId: uploader.id,
    },
    content,
  };
}
