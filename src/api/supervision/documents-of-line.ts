/** Documents named in an action must be this order line's, uploaded by the acting party for a fitting purpose. */
import type { DocumentPurpose, DocumentStore, UploaderType } from '../../db/repositories/supervision/documents';
import { AppError } from '../errors';

/** 422 naming the first document id (as `field.N`, or `field` for a single id) that is not the party's own on this line. */
export async function checkDocumentIds(
  documents: DocumentStore,
  line: { orderId: string; orderLineId: string },
  ids: string[],
  rule: { uploader: UploaderType; field: string; purposes?: readonly DocumentPurpose[]; single?: boolean },
): Promise<void> {
  if (ids.length === 0) return;
  const found = new Map((await documents.describeMany(line.orderId, line.orderLineId, ids)).map((d) => [d.documentId, d]));
  ids.forEach((id, i) => {
    const doc = found.get(id.toLowerCase());
    const field = rule.single ? rule.field : `${rule.field}.${i}`;
    let reason: string | undefined;
    if (!doc) reason = 'no such document on this order line';
    else if (doc.uploaderType !== rule.uploader) reason = `uploaded by the ${doc.uploaderType}, not the ${rule.uploader}`;
    else if (rule.purposes && !rule.purposes.includes(doc.purpose)) reason = `a ${doc.purpose} document; expected ${rule.purposes.join(' or ')}`;
    if (reason) throw new AppError(422, 'unknown_document', `${field}: ${reason}`, [{ field, reason }]);
  });
}
