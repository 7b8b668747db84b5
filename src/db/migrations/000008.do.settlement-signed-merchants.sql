-- Merchant settlement routes authenticate by signed requests under the merchant's access key,
-- as the supervision routes do (api/auth.ts), so the per-merchant token of 000007 goes.
alter table merchants drop column api_token_sha256;
