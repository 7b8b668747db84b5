/** The document rules, pure: type, size (measured before decoding), base64, checksum, and who uploads for which purpose. */
import { createHash } from 'node:crypto';
import { AppError } from '../../../src/api/errors';
import { checkUpload, DOCUMENT_MAX_BYTES } from '../../../src/api/supervision/documents';

const line = { orderId: 'O1', orderLineId: 'O1-1' };
const merchant = { type: 'merchant', id: 'M1' } as const;
const body = (content: Buffer, extra: Record<string, unknown> = {}) => ({ purpose: 'acceptance', fileName: 'a.pdf', contentType: 'application/pdf', contentBase64: content.toString('base64'), ...extra });

/** The refusal's status and the field it names. */
function refusal(run: () => unknown): [number, string | undefined] {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return [error.httpStatus, error.details?.[0]?.field];
    throw error;
  }
  throw new Error('not refused');
}

test('when a document is at the size limit, then it is taken with its SHA-256, size and uploader; one byte more is 413 on contentBase64', () => {
  const content = Buffer.alloc(DOCUMENT_MAX_BYTES, 1);
  const { meta, content: stored } = checkUpload(body(content), merchant, line);
  expect(meta).toMatchObject({ sizeBytes: DOCUMENT_MAX_BYTES, sha256: createHash('sha256').update(content).digest('hex'), uploaderType: 'merchant', uploaderId: 'M1', ...line });
  expect(stored.equals(content)).toBe(true);
  for (const size of [DOCUMENT_MAX_BYTES + 1, DOCUMENT_MAX_BYTES + 2, DOCUMENT_MAX_BYTES + 3]) {
    expect(refusal(() => checkUpload(body(Buffer.alloc(size, 1)), merchant, line))).toEqual([413, 'contentBase64']);
  }
});

test('when the type is unknown, then 415 names contentType; a parameter after the type is ignored', () => {
  expect(refusal(() => checkUpload(body(Buffer.from('x'), { contentType: 'text/html' }), merchant, line))).toEqual([415, 'contentType']);
  expect(checkUpload(body(Buffer.from('x'), { contentType: 'Text/Plain; charset=utf-8' }), merchant, line).meta.contentType).toBe('text/plain');
});

test('when the content is not padded base64 or empty, the checksum differs, or the purpose is not the party’s, then 400 names the field', () => {
  expect(refusal(() => checkUpload(body(Buffer.from('x'), { contentBase64: 'abc' }), merchant, line))).toEqual([400, 'contentBase64']);
  expect(refusal(() => checkUpload(body(Buffer.from('x'), { contentBase64: '====' }), merchant, line))).toEqual([400, 'contentBase64']);
  expect(refusal(() => checkUpload(body(Buffer.from('x'), { sha256: 'f'.repeat(64) }), merchant, line))).toEqual([400, 'sha256']);
  expect(refusal(() => checkUpload(body(Buffer.from('x'), { purpose: 'requirement' }), merchant, line))).toEqual([400, 'purpose']);
  expect(refusal(() => checkUpload(body(Buffer.from('x'), { purpose: 'acceptance' }), { type: 'customer', id: 'C1' }, line))).toEqual([400, 'purpose']);
  expect(refusal(() => checkUpload(body(Buffer.from('x'), { fileName: 'a/b.pdf' }), merchant, line))).toEqual([400, 'fileName']);
});
